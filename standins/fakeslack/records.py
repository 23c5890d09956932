"""Records of the fake Slack workspace: users, channels, messages, views, files, calls.

Plain dataclasses with their Web API shapes (`to_api`); no locking, no rules.
`SlackError(code)` is what an operation raises to answer `{"ok": false, "error": code}`.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

DEFAULT_CHANNEL = "C0GENERAL"

EventKind = Literal[
    "message_posted",
    "message_updated",
    "message_deleted",
    "ephemeral_posted",
    "ephemeral_updated",
    "ephemeral_deleted",
    "view_opened",
    "view_pushed",
    "view_updated",
    "view_closed",
    "view_published",
    "file_uploaded",
    "status_set",
]


class SlackError(Exception):
    """A Web API error: `code` is what goes into `"error"`."""

    def __init__(self, code: str, *, messages: Iterable[str] = (), status: int = 200) -> None:
        super().__init__(code)
        self.code = code
        self.messages = list(messages)
        self.status = status


# --------------------------------------------------------------------------- records


@dataclass
class User:
    id: str
    name: str
    team_id: str
    is_admin: bool = False
    is_bot: bool = False
    real_name: str = ""
    tz: str = "Europe/London"

    def to_api(self) -> dict[str, Any]:
        real_name = self.real_name or self.name
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": False,
            "real_name": real_name,
            "tz": self.tz,
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "profile": {
                "real_name": real_name,
                "display_name": self.name,
                "real_name_normalized": real_name,
                "display_name_normalized": self.name,
                "team": self.team_id,
            },
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 0,
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    bot_is_member: bool = True
    created: int = field(default_factory=lambda: int(time.time()))
    im_user: str | None = None
    members: set[str] = field(default_factory=set)  # the people in it (users.conversations)

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot_is_member,
            "created": self.created,
            "creator": bot_user_id,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class MessageVersion:
    """One state of a message: the original post or the result of one edit."""

    text: str
    blocks: list[dict[str, Any]] | None
    metadata: dict[str, Any] | None
    at: str  # the ts of the post or of the edit
    files: list[str] = field(default_factory=list)


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    team: str
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)
    subtype: str | None = None
    reply_broadcast: bool = False
    deleted: bool = False
    edited_ts: str | None = None
    replies: list[str] = field(default_factory=list)
    versions: list[MessageVersion] = field(default_factory=list)

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    @property
    def is_bot(self) -> bool:
        return self.bot_id is not None

    @property
    def texts(self) -> list[str]:
        """The text of every version, oldest first (handy for progress-edit assertions)."""
        return [version.text for version in self.versions]

    def snapshot(self) -> MessageVersion:
        return MessageVersion(
            text=self.text,
            blocks=copy.deepcopy(self.blocks),
            metadata=copy.deepcopy(self.metadata),
            at=self.edited_ts or self.ts,
            files=list(self.files),
        )


@dataclass
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    source: Literal["api", "response_url"] = "api"
    deleted: bool = False
    versions: list[MessageVersion] = field(default_factory=list)


@dataclass
class Trigger:
    id: str
    user_id: str
    created: float
    expires_at: float
    used: bool = False


@dataclass
class View:
    id: str
    team_id: str
    app_id: str
    bot_id: str
    user_id: str
    payload: dict[str, Any]
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    external_id: str = ""
    state_values: dict[str, Any] = field(default_factory=dict)
    closed: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def type(self) -> str:
        return str(self.payload.get("type", "modal"))

    @property
    def callback_id(self) -> str:
        return str(self.payload.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.payload.get("private_metadata", ""))

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.payload.get("blocks") or [])

    def to_api(self) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(self.state_values)},
            "hash": self.hash,
            "title": copy.deepcopy(self.payload.get("title")),
            "clear_on_close": bool(self.payload.get("clear_on_close", False)),
            "notify_on_close": bool(self.payload.get("notify_on_close", False)),
            "close": copy.deepcopy(self.payload.get("close")),
            "submit": copy.deepcopy(self.payload.get("submit")),
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": self.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if self.type == "home":
            for key in ("title", "close", "submit"):
                if view[key] is None:
                    del view[key]
        return view


@dataclass
class StoredFile:
    id: str
    name: str
    title: str
    content: bytes
    filetype: str
    mimetype: str
    user: str
    team: str
    created: int
    base_url: str
    channel: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    alt_txt: str | None = None
    upload_id: str | None = None
    declared_length: int | None = None
    uploaded: bool = True  # bytes received
    completed: bool = True  # shared/finished (files.completeUploadExternal or add_file)
    share_ts: str | None = None
    redirect_to: str | None = None
    redirects_left: int | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def url_private(self) -> str:
        return f"{self.base_url}/files-pri/{self.team}-{self.id}/{self.name}"

    @property
    def url_private_download(self) -> str:
        return f"{self.base_url}/files-pri/{self.team}-{self.id}/download/{self.name}"

    def to_api(self) -> dict[str, Any]:
        shares: dict[str, Any] = {}
        if self.channel and self.share_ts:
            share: dict[str, Any] = {"ts": self.share_ts, "channel_name": "", "team_id": self.team}
            if self.thread_ts:
                share["thread_ts"] = self.thread_ts
            shares = {"public": {self.channel: [share]}}
        return {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title,
            "mimetype": self.mimetype,
            "filetype": self.filetype,
            "pretty_type": self.filetype.upper() if self.filetype else "",
            "user": self.user,
            "user_team": self.team,
            "editable": False,
            "size": self.size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(self.channel),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": self.url_private,
            "url_private_download": self.url_private_download,
            "permalink": f"{self.base_url}/files/{self.user}/{self.id}/{self.name}",
            "channels": [self.channel] if self.channel else [],
            "groups": [],
            "ims": [],
            "comments_count": 0,
            "alt_txt": self.alt_txt or "",
            "shares": shares,
            "has_rich_preview": False,
            "file_access": "visible",
        }


@dataclass
class RecordedCall:
    method: str
    params: dict[str, Any]
    token_present: bool
    time: float
    http_method: str = "POST"
    content_type: str = ""
    token_valid: bool = False
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def json(self) -> dict[str, Any]:
        """Alias of `params` (for calls slack_sdk sends as a JSON body)."""
        return self.params

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return str(error) if error is not None else None


@dataclass
class Fault:
    kind: Literal["ratelimit", "error", "delay", "stored_error", "stored_drop"]
    remaining: int
    error: str = "internal_error"
    status: int = 200
    retry_after: int = 1
    seconds: float = 0.0


@dataclass
class ResponseTarget:
    id: str
    channel: str
    user: str
    message_ts: str | None = None
    is_ephemeral: bool = False
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AssistantStatus:
    channel: str
    thread_ts: str
    status: str
    time: float


@dataclass
class Download:
    file_id: str
    authorized: bool
    status: int
    outcome: Literal["file", "login_page", "redirect", "not_found"]
    time: float


@dataclass(frozen=True)
class WorkspaceEvent:
    """What changed; passed to `subscribe` callbacks."""

    kind: EventKind
    channel: str | None = None
    ts: str | None = None
    user: str | None = None
    payload: Any = None  # the Message / Ephemeral / View / StoredFile / AssistantStatus concerned


Subscriber = Callable[[WorkspaceEvent], None]


# --------------------------------------------------------------------------- helpers


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return 0, 0


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


_EXTENSIONS: dict[str, tuple[str, str]] = {
    "jsonl": ("jsonl", "application/jsonl"),
    "json": ("json", "application/json"),
    "csv": ("csv", "text/csv"),
    "txt": ("text", "text/plain"),
    "png": ("png", "image/png"),
    "jpg": ("jpg", "image/jpeg"),
    "jpeg": ("jpg", "image/jpeg"),
    "pdf": ("pdf", "application/pdf"),
}


def _filetype(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _EXTENSIONS.get(ext, ("binary", ""))[0]


def _mimetype(filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _EXTENSIONS.get(ext, ("", "application/octet-stream"))[1]
