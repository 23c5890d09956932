"""In-memory state of the fake Slack workspace.

Everything the fake Web API (`server.py`) does goes through a `Workspace`; tests,
the offline demo and the benchmarks read it back (`messages`, `thread`, `calls`, …)
or wait on it (`wait_for`). All access is serialised by one re-entrant lock, and a
`threading.Condition` on that lock wakes waiters after every change, so the server
thread and the test thread can share one instance safely.

Operations that can fail the way Slack fails raise `SlackError(code)`; the server
turns that into `{"ok": false, "error": code}`.

The workspace is put together from one module per responsibility: `records`
(dataclasses), `limits` (Block Kit/view validation), `state` (lock, waiting),
`directory` (users, channels), `chat` (messages, ephemerals, response_url),
`views`, `files`, and `faults` (call log, fault injection).
"""

from __future__ import annotations

from standins.fakeslack.faults import FaultsMixin
from standins.fakeslack.files import FilesMixin
from standins.fakeslack.limits import (
    MAX_BLOCKS_MESSAGE,
    MAX_BLOCKS_VIEW,
    MAX_HEADER_TEXT,
    MAX_PRIVATE_METADATA,
    MAX_SECTION_TEXT,
    MAX_TEXT,
    MAX_VIEW_STACK,
    MAX_VIEW_TITLE,
    RESPONSE_URL_MAX_USES,
    validate_blocks,
    validate_metadata,
    validate_view,
)
from standins.fakeslack.records import (
    DEFAULT_CHANNEL,
    AssistantStatus,
    Channel,
    Download,
    Ephemeral,
    EventKind,
    Fault,
    Message,
    MessageVersion,
    RecordedCall,
    ResponseTarget,
    SlackError,
    StoredFile,
    Subscriber,
    Trigger,
    User,
    View,
    WorkspaceEvent,
    _filetype,
    _flag,
    _mimetype,
    _ts_key,
)
from standins.fakeslack.views import ViewsMixin

__all__ = [
    "DEFAULT_CHANNEL",
    "MAX_BLOCKS_MESSAGE",
    "MAX_BLOCKS_VIEW",
    "MAX_HEADER_TEXT",
    "MAX_PRIVATE_METADATA",
    "MAX_SECTION_TEXT",
    "MAX_TEXT",
    "MAX_VIEW_STACK",
    "MAX_VIEW_TITLE",
    "RESPONSE_URL_MAX_USES",
    "AssistantStatus",
    "Channel",
    "Download",
    "Ephemeral",
    "EventKind",
    "Fault",
    "Message",
    "MessageVersion",
    "RecordedCall",
    "ResponseTarget",
    "SlackError",
    "StoredFile",
    "Subscriber",
    "Trigger",
    "User",
    "View",
    "Workspace",
    "WorkspaceEvent",
    "_filetype",
    "_flag",
    "_mimetype",
    "_ts_key",
    "validate_blocks",
    "validate_metadata",
    "validate_view",
]


class Workspace(FilesMixin, ViewsMixin, FaultsMixin):
    """Thread-safe in-memory Slack workspace (one team, one bot)."""
