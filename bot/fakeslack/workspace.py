"""In-memory state of the fake Slack workspace.

Everything the fake Web API (`server.py`) does goes through a `Workspace`; tests,
the offline demo and the benchmarks read it back (`messages`, `thread`, `calls`, …)
or wait on it (`wait_for`). All access is serialised by one re-entrant lock, and a
`threading.Condition` on that lock wakes waiters after every change, so the server
thread and the test thread can share one instance safely.

Operations that can fail the way Slack fails raise `SlackError(code)`; the server
turns that into `{"ok": false, "error": code}`.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CHANNEL = "C0GENERAL"
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_HEADER_TEXT = 150
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3_000
MAX_VIEW_STACK = 3
RESPONSE_URL_MAX_USES = 5

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
    kind: Literal["ratelimit", "error", "delay"]
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


# --------------------------------------------------------------------------- validation


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text", ""))
    return ""


def validate_blocks(blocks: Any, *, limit: int = MAX_BLOCKS_MESSAGE) -> list[dict[str, Any]]:
    """Reject what Slack rejects with `invalid_blocks` (the common mistakes)."""
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:/blocks/{index}]")
            continue
        if block["type"] == "section":
            if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
                problems.append(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/{index}/text]"
                )
            if "text" not in block and "fields" not in block:
                problems.append(f"must provide text or fields [json-pointer:/blocks/{index}]")
        elif block["type"] == "header" and len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
            problems.append(
                f"must be less than {MAX_HEADER_TEXT + 1} characters [json-pointer:/blocks/{index}/text]"
            )
    if problems:
        raise SlackError("invalid_blocks", messages=problems)
    return blocks


def validate_metadata(metadata: Any) -> dict[str, Any]:
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": copy.deepcopy(metadata["event_payload"])}


def validate_view(view: Any) -> dict[str, Any]:
    if not isinstance(view, dict):
        raise SlackError(
            "invalid_arguments", messages=["failed to match all allowed schemas [json-pointer:/view]"]
        )
    problems: list[str] = []
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        problems.append("must be one of: modal, home [json-pointer:/view/type]")
    if view_type == "modal":
        if not _text_of(view.get("title")):
            problems.append("missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if len(_text_of(view.get(key))) > MAX_VIEW_TITLE:
                problems.append(
                    f"must be less than {MAX_VIEW_TITLE + 1} characters [json-pointer:/view/{key}/text]"
                )
    if len(str(view.get("private_metadata", ""))) > MAX_PRIVATE_METADATA:
        problems.append(
            f"must be less than {MAX_PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]"
        )
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("missing required field: blocks [json-pointer:/view]")
    elif len(blocks) > MAX_BLOCKS_VIEW:
        problems.append(f"no more than {MAX_BLOCKS_VIEW} items allowed [json-pointer:/view/blocks]")
    if problems:
        raise SlackError("invalid_arguments", messages=problems)
    return copy.deepcopy(view)


# --------------------------------------------------------------------------- workspace


class Workspace:
    """Thread-safe in-memory Slack workspace (one team, one bot)."""

    def __init__(
        self,
        *,
        team_id: str = "T0TEAM",
        team_name: str = "Tunebot Test",
        team_domain: str = "tunebot-test",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        app_id: str = "A0TUNEBOT",
        bot_name: str = "tunebot",
        bot_token: str = "xoxb-test-token",
        verification_token: str = "legacy-verification-token",
        trigger_ttl: float = 3.0,
        base_url: str = "http://127.0.0.1",
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.bot_name = bot_name
        self.bot_token = bot_token
        self.verification_token = verification_token
        self.trigger_ttl = trigger_ttl
        self.base_url = base_url.rstrip("/")
        self.missing_scopes: set[str] = set()

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._version = 0
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._users: dict[str, User] = {}
        self._channels: dict[str, Channel] = {}
        self._messages: dict[str, dict[str, Message]] = {}
        self._ephemerals: list[Ephemeral] = []
        self._triggers: dict[str, Trigger] = {}
        self._views: dict[str, View] = {}
        self._stacks: dict[str, list[str]] = {}
        self._home: dict[str, str] = {}
        self._files: dict[str, StoredFile] = {}
        self._uploads: dict[str, str] = {}
        self._calls: list[RecordedCall] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._responses: dict[str, ResponseTarget] = {}
        self._statuses: list[AssistantStatus] = []
        self._downloads: list[Download] = []
        self._subscribers: list[Subscriber] = []

        self._users[bot_user_id] = User(bot_user_id, bot_name, team_id, is_bot=True, real_name=bot_name)
        self.add_channel(DEFAULT_CHANNEL, "general")

    # ------------------------------------------------------------------ plumbing

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def version(self) -> int:
        """Bumped on every change (including every recorded API call)."""
        with self._lock:
            return self._version

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def new_ts(self) -> str:
        """A message timestamp ("%d.%06d"), strictly greater than every earlier one."""
        with self._lock:
            now_us = int(time.time() * 1_000_000)
            self._last_ts_us = max(now_us, self._last_ts_us + 1)
            seconds, micros = divmod(self._last_ts_us, 1_000_000)
            return f"{seconds}.{micros:06d}"

    def _touch(self, event: WorkspaceEvent | None = None) -> None:
        """Called with the lock held after a change: wake waiters, tell subscribers."""
        self._version += 1
        self._changed.notify_all()
        if event is None:
            return
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("fakeslack subscriber %r failed on %s", callback, event.kind)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event)` after each change (under the workspace lock, in the
        thread that made the change; keep it quick). Returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Block until `predicate()` is truthy (re-checked after every change); return its value.

        Raises TimeoutError. Do not call this from the event loop that runs the bot;
        use `async_wait_for` there."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout}s")
                # the timeout also catches time-based conditions (e.g. trigger expiry)
                self._changed.wait(min(remaining, 0.1))

    async def async_wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """`wait_for` for coroutines: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        seen = -1
        while True:
            version = self.version
            if version != seen:
                seen = version
                with self._lock:
                    value = predicate()
                if value:
                    return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.005)

    # ------------------------------------------------------------------ directory

    def add_user(
        self,
        user_id: str,
        name: str,
        is_admin: bool = False,
        *,
        real_name: str = "",
        is_bot: bool = False,
        tz: str = "Europe/London",
    ) -> User:
        with self._lock:
            user = User(
                user_id, name, self.team_id, is_admin=is_admin, is_bot=is_bot, real_name=real_name, tz=tz
            )
            self._users[user_id] = user
            self._touch()
            return user

    def ensure_user(self, user_id: str, name: str | None = None) -> User:
        """The user `user_id`, added (named after the id) if unknown."""
        with self._lock:
            existing = self._users.get(user_id)
            if existing is not None:
                return existing
            return self.add_user(user_id, name or user_id.lower())

    def user(self, user_id: str) -> User | None:
        with self._lock:
            return self._users.get(user_id)

    @property
    def users(self) -> list[User]:
        with self._lock:
            return list(self._users.values())

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_im: bool = False,
        bot_is_member: bool = True,
        im_user: str | None = None,
    ) -> Channel:
        with self._lock:
            channel = Channel(
                channel_id,
                name,
                is_private=is_private,
                is_im=is_im,
                bot_is_member=bot_is_member,
                im_user=im_user,
            )
            self._channels[channel_id] = channel
            self._messages.setdefault(channel_id, {})
            self._touch()
            return channel

    def channel(self, channel_id: str) -> Channel | None:
        with self._lock:
            return self._channels.get(channel_id)

    @property
    def channels(self) -> list[Channel]:
        with self._lock:
            return list(self._channels.values())

    def _require_channel(self, channel_id: str | None) -> Channel:
        if not channel_id:
            raise SlackError("channel_not_found")
        channel = self._channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def join(self, channel_id: str) -> tuple[Channel, bool]:
        """The bot joins; returns (channel, already_member)."""
        with self._lock:
            channel = self._require_channel(channel_id)
            if (channel.is_im or channel.is_private) and not channel.bot_is_member:
                raise SlackError("method_not_supported_for_channel_type")
            already = channel.bot_is_member
            channel.bot_is_member = True
            self._touch()
            return channel, already

    # ------------------------------------------------------------------ messages

    def post_message(
        self,
        channel: str,
        text: str | None = None,
        *,
        user: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        files: Iterable[str] = (),
        reply_broadcast: bool = False,
        subtype: str | None = None,
    ) -> Message:
        """Post as the bot (default) or as `user`. Validates like chat.postMessage."""
        with self._lock:
            chan = self._require_channel(channel)
            as_bot = user is None or user == self.bot_user_id
            file_ids = list(files)
            if as_bot and not chan.bot_is_member and (chan.is_private or chan.is_im):
                raise SlackError("not_in_channel")
            if not text and not blocks and not file_ids:
                raise SlackError("no_text")
            if text and len(text) > MAX_TEXT:
                raise SlackError("msg_too_long")
            if blocks is not None:
                blocks = copy.deepcopy(validate_blocks(blocks))
            if metadata is not None:
                metadata = validate_metadata(metadata)
            root: Message | None = None
            if thread_ts:
                root = self._messages[channel].get(thread_ts)
                if root is not None and root.is_reply and root.thread_ts:
                    thread_ts = root.thread_ts
                    root = self._messages[channel].get(thread_ts)
            ts = self.new_ts()
            message = Message(
                channel=channel,
                ts=ts,
                user=self.bot_user_id if as_bot else str(user),
                text=text or "",
                team=self.team_id,
                bot_id=self.bot_id if as_bot else None,
                app_id=self.app_id if as_bot else None,
                thread_ts=thread_ts or None,
                blocks=blocks,
                metadata=metadata,
                files=file_ids,
                subtype=subtype,
                reply_broadcast=reply_broadcast and bool(thread_ts),
            )
            message.versions.append(message.snapshot())
            self._messages[channel][ts] = message
            if root is not None:
                root.thread_ts = root.ts
                root.replies.append(ts)
            self._touch(WorkspaceEvent("message_posted", channel, ts, message.user, message))
            return message

    def post_user_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: Iterable[str] = (),
    ) -> Message:
        """What a person typing in Slack produces (no validation of blocks, no bot checks)."""
        file_ids = list(files)
        with self._lock:
            for file_id in file_ids:
                stored = self._files.get(file_id)
                if stored is not None and stored.channel is None:
                    stored.channel = channel
                    stored.thread_ts = thread_ts
            message = self.post_message(
                channel,
                text,
                user=user,
                thread_ts=thread_ts,
                files=file_ids,
                subtype="file_share" if file_ids else None,
            )
            for file_id in file_ids:
                stored = self._files.get(file_id)
                if stored is not None and stored.share_ts is None:
                    stored.share_ts = message.ts
            return message

    def _require_message(self, channel: str | None, ts: str | None) -> Message:
        chan = self._require_channel(channel)
        message = self._messages[chan.id].get(ts or "")
        if message is None or message.deleted:
            raise SlackError("message_not_found")
        return message

    def update_message(
        self,
        channel: str,
        ts: str,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        by: str | None = None,
    ) -> Message:
        """Edit a message (as the bot unless `by`); every version is kept in `message.versions`."""
        with self._lock:
            message = self._require_message(channel, ts)
            editor = by or self.bot_user_id
            if message.user != editor:
                raise SlackError("cant_update_message")
            if text is not None and len(text) > MAX_TEXT:
                raise SlackError("msg_too_long")
            if blocks is not None:
                blocks = copy.deepcopy(validate_blocks(blocks))
            if metadata is not None:
                metadata = validate_metadata(metadata)
            new_text = message.text if text is None else text
            new_blocks = message.blocks if blocks is None else (blocks or None)
            if not new_text and not new_blocks and not message.files:
                raise SlackError("no_text")
            message.text = new_text
            message.blocks = new_blocks
            if metadata is not None:
                message.metadata = metadata
            message.edited_ts = self.new_ts()
            message.versions.append(message.snapshot())
            self._touch(WorkspaceEvent("message_updated", channel, ts, message.user, message))
            return message

    def delete_message(self, channel: str, ts: str, *, by: str | None = None) -> Message:
        with self._lock:
            message = self._require_message(channel, ts)
            if message.user != (by or self.bot_user_id):
                raise SlackError("cant_delete_message")
            message.deleted = True
            self._touch(WorkspaceEvent("message_deleted", channel, ts, message.user, message))
            return message

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return self._messages.get(channel, {}).get(ts)

    def messages(
        self, channel: str = DEFAULT_CHANNEL, *, include_replies: bool = True, include_deleted: bool = False
    ) -> list[Message]:
        """Messages of `channel`, oldest first."""
        with self._lock:
            found = sorted(self._messages.get(channel, {}).values(), key=lambda m: _ts_key(m.ts))
            return [
                m
                for m in found
                if (include_deleted or not m.deleted)
                and (include_replies or not m.is_reply or m.reply_broadcast)
            ]

    def thread(self, channel: str, ts: str, *, include_deleted: bool = False) -> list[Message]:
        """The thread rooted at `ts` (or containing reply `ts`): root first, then replies by ts."""
        with self._lock:
            in_channel = self._messages.get(channel, {})
            message = in_channel.get(ts)
            if message is None:
                return []
            root_ts = message.thread_ts if message.is_reply and message.thread_ts else message.ts
            members = [m for m in in_channel.values() if m.ts == root_ts or m.thread_ts == root_ts]
            members.sort(key=lambda m: _ts_key(m.ts))
            return [m for m in members if include_deleted or not m.deleted]

    def bot_messages(self, channel: str = DEFAULT_CHANNEL) -> list[Message]:
        return [m for m in self.messages(channel) if m.user == self.bot_user_id]

    def message_to_api(self, message: Message, *, include_metadata: bool = True) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {"type": "message"}
            if message.subtype:
                data["subtype"] = message.subtype
            data.update({"ts": message.ts, "user": message.user, "text": message.text, "team": message.team})
            if message.bot_id:
                data["bot_id"] = message.bot_id
                data["app_id"] = message.app_id
                data["bot_profile"] = {
                    "id": message.bot_id,
                    "app_id": message.app_id,
                    "name": self.bot_name,
                    "deleted": False,
                    "team_id": self.team_id,
                    "icons": {},
                }
            if message.blocks:
                data["blocks"] = copy.deepcopy(message.blocks)
            if message.files:
                data["files"] = [self._files[f].to_api() for f in message.files if f in self._files]
                data["upload"] = True
                data["display_as_bot"] = False
            if message.edited_ts:
                data["edited"] = {"user": message.user, "ts": message.edited_ts}
            if message.thread_ts:
                data["thread_ts"] = message.thread_ts
                if message.is_reply:
                    root = self._messages[message.channel].get(message.thread_ts)
                    if root is not None:
                        data["parent_user_id"] = root.user
                    if message.reply_broadcast:
                        data["subtype"] = "thread_broadcast"
                else:
                    replies = [
                        r
                        for r in (self._messages[message.channel].get(ts) for ts in message.replies)
                        if r is not None and not r.deleted
                    ]
                    data["reply_count"] = len(replies)
                    data["reply_users"] = sorted({r.user for r in replies})
                    data["reply_users_count"] = len(data["reply_users"])
                    data["latest_reply"] = replies[-1].ts if replies else message.ts
                    data["is_locked"] = False
                    data["subscribed"] = False
            if include_metadata and message.metadata:
                data["metadata"] = copy.deepcopy(message.metadata)
            return data

    def permalink(self, channel: str, ts: str) -> str:
        with self._lock:
            message = self._require_message(channel, ts)
            link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            if message.is_reply:
                link += f"?thread_ts={message.thread_ts}&cid={channel}"
            return link

    # ------------------------------------------------------------------ ephemeral

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: Literal["api", "response_url"] = "api",
    ) -> Ephemeral:
        with self._lock:
            self._require_channel(channel)
            if user not in self._users:
                raise SlackError("user_not_in_channel")
            if not text and not blocks:
                raise SlackError("no_text")
            if blocks is not None:
                blocks = copy.deepcopy(validate_blocks(blocks))
            ts = self.new_ts()
            ephemeral = Ephemeral(channel, user, ts, text or "", blocks, thread_ts, source)
            ephemeral.versions.append(MessageVersion(ephemeral.text, copy.deepcopy(blocks), None, ts))
            self._ephemerals.append(ephemeral)
            self._touch(WorkspaceEvent("ephemeral_posted", channel, ts, user, ephemeral))
            return ephemeral

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return [
                e
                for e in self._ephemerals
                if not e.deleted
                and (channel is None or e.channel == channel)
                and (user is None or e.user == user)
            ]

    def _ephemeral(self, channel: str, message_ts: str) -> Ephemeral | None:
        for ephemeral in self._ephemerals:
            if ephemeral.channel == channel and ephemeral.message_ts == message_ts:
                return ephemeral
        return None

    # ------------------------------------------------------------------ views

    def new_trigger(self, user_id: str, *, ttl: float | None = None) -> str:
        """Register a trigger_id (what Slack puts in a command/interaction payload)."""
        with self._lock:
            now = time.monotonic()
            trigger_id = f"{next(self._ids)}.{int(time.time())}.{secrets.token_hex(16)}"
            lifetime = self.trigger_ttl if ttl is None else ttl
            self._triggers[trigger_id] = Trigger(trigger_id, user_id, now, now + lifetime)
            return trigger_id

    def consume_trigger(self, trigger_id: str | None) -> Trigger:
        with self._lock:
            if not trigger_id:
                raise SlackError("invalid_arguments", messages=["missing required field: trigger_id"])
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used:
                raise SlackError("exchanged_trigger_id")
            if time.monotonic() > trigger.expires_at:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            return trigger

    def _new_view(
        self, user_id: str, payload: dict[str, Any], *, root: str | None = None, previous: str | None = None
    ) -> View:
        view_id = self._new_id("V")
        external_id = str(payload.pop("external_id", "") or "")
        if external_id and any(v.external_id == external_id for v in self._views.values()):
            raise SlackError("duplicate_external_id")
        view = View(
            id=view_id,
            team_id=self.team_id,
            app_id=self.app_id,
            bot_id=self.bot_id,
            user_id=user_id,
            payload=payload,
            hash=self._new_hash(),
            root_view_id=root or view_id,
            previous_view_id=previous,
            external_id=external_id,
        )
        view.history.append(copy.deepcopy(payload))
        self._views[view_id] = view
        return view

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{secrets.token_hex(4)}"

    def open_view(self, trigger_id: str | None, view: Any) -> View:
        with self._lock:
            payload = validate_view(view)
            trigger = self.consume_trigger(trigger_id)
            for old in self._stacks.get(trigger.user_id, []):
                self._views[old].closed = True
            opened = self._new_view(trigger.user_id, payload)
            self._stacks[trigger.user_id] = [opened.id]
            self._touch(WorkspaceEvent("view_opened", None, None, trigger.user_id, opened))
            return opened

    def push_view(self, trigger_id: str | None, view: Any) -> View:
        with self._lock:
            payload = validate_view(view)
            trigger = self.consume_trigger(trigger_id)
            stack = self._stacks.setdefault(trigger.user_id, [])
            if len(stack) >= MAX_VIEW_STACK:
                raise SlackError("push_limit_reached")
            root = stack[0] if stack else None
            previous = stack[-1] if stack else None
            pushed = self._new_view(trigger.user_id, payload, root=root, previous=previous)
            stack.append(pushed.id)
            self._touch(WorkspaceEvent("view_pushed", None, None, trigger.user_id, pushed))
            return pushed

    def update_view(
        self,
        view: Any,
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
    ) -> View:
        with self._lock:
            payload = validate_view(view)
            target: View | None = None
            if view_id:
                target = self._views.get(view_id)
            elif external_id:
                target = next((v for v in self._views.values() if v.external_id == external_id), None)
            else:
                raise SlackError(
                    "invalid_arguments", messages=["missing required field: view_id or external_id"]
                )
            if target is None:
                raise SlackError("not_found")
            if hash and hash != target.hash:
                raise SlackError("hash_conflict")
            payload.pop("external_id", None)
            target.payload = payload
            target.hash = self._new_hash()
            target.history.append(copy.deepcopy(payload))
            self._touch(WorkspaceEvent("view_updated", None, None, target.user_id, target))
            return target

    def publish_view(self, user_id: str, view: Any) -> View:
        with self._lock:
            if user_id not in self._users:
                raise SlackError("user_not_found")
            payload = validate_view(view)
            if payload.get("type") != "home":
                raise SlackError("invalid_arguments", messages=["must be home [json-pointer:/view/type]"])
            existing = self._views.get(self._home.get(user_id, ""))
            if existing is not None:
                existing.payload = payload
                existing.hash = self._new_hash()
                existing.history.append(copy.deepcopy(payload))
                published = existing
            else:
                published = self._new_view(user_id, payload)
                self._home[user_id] = published.id
            self._touch(WorkspaceEvent("view_published", None, None, user_id, published))
            return published

    def close_view(self, view_id: str, *, all_views: bool = False) -> None:
        """What the client does after a submission acked without a response_action."""
        with self._lock:
            view = self._views.get(view_id)
            if view is None:
                return
            stack = self._stacks.get(view.user_id, [])
            if all_views or view_id == (stack[0] if stack else None):
                closing = list(stack) or [view_id]
                stack.clear()
            else:
                closing = [view_id]
                if view_id in stack:
                    stack.remove(view_id)
            for closed_id in closing:
                self._views[closed_id].closed = True
            self._touch(WorkspaceEvent("view_closed", None, None, view.user_id, view))

    def set_view_state(self, view_id: str, values: dict[str, Any]) -> View:
        with self._lock:
            view = self._views.get(view_id)
            if view is None:
                raise SlackError("not_found")
            view.state_values = copy.deepcopy(values)
            self._touch()
            return view

    def view(self, view_id: str) -> View | None:
        with self._lock:
            return self._views.get(view_id)

    def views(self, user: str | None = None, *, open_only: bool = False) -> list[View]:
        with self._lock:
            return [
                v
                for v in self._views.values()
                if (user is None or v.user_id == user) and not (open_only and v.closed)
            ]

    def view_stack(self, user: str) -> list[View]:
        """The user's open modals, root first."""
        with self._lock:
            return [self._views[v] for v in self._stacks.get(user, [])]

    # ------------------------------------------------------------------ files

    def add_file(
        self,
        name: str,
        content: bytes,
        filetype: str = "text",
        mimetype: str = "text/plain",
        *,
        title: str | None = None,
        user: str | None = None,
    ) -> dict[str, Any]:
        """Register a file someone uploaded; returns its files.info-style dict."""
        with self._lock:
            stored = StoredFile(
                id=self._new_id("F"),
                name=name,
                title=title or name,
                content=bytes(content),
                filetype=filetype,
                mimetype=mimetype,
                user=user or self.bot_user_id,
                team=self.team_id,
                created=int(time.time()),
                base_url=self.base_url,
            )
            self._files[stored.id] = stored
            self._touch()
            return stored.to_api()

    def file(self, file_id: str) -> StoredFile | None:
        with self._lock:
            return self._files.get(file_id)

    @property
    def files(self) -> list[StoredFile]:
        with self._lock:
            return list(self._files.values())

    def uploads(self, channel: str | None = None) -> list[StoredFile]:
        """Files the bot uploaded and shared (files.completeUploadExternal), oldest first."""
        with self._lock:
            return [
                f
                for f in self._files.values()
                if f.upload_id is not None and f.completed and (channel is None or f.channel == channel)
            ]

    def start_upload(
        self,
        filename: str | None,
        length: Any,
        *,
        alt_txt: str | None = None,
        snippet_type: str | None = None,
    ) -> StoredFile:
        with self._lock:
            if not filename:
                raise SlackError("invalid_arguments", messages=["missing required field: filename"])
            try:
                declared = int(length)
            except (TypeError, ValueError):
                raise SlackError("invalid_arguments", messages=["missing required field: length"]) from None
            if declared < 0:
                raise SlackError("invalid_arguments", messages=["length must be non-negative"])
            upload_id = secrets.token_urlsafe(12)
            stored = StoredFile(
                id=self._new_id("F"),
                name=filename,
                title=filename,
                content=b"",
                filetype=snippet_type or _filetype(filename),
                mimetype=_mimetype(filename),
                user=self.bot_user_id,
                team=self.team_id,
                created=int(time.time()),
                base_url=self.base_url,
                alt_txt=alt_txt,
                upload_id=upload_id,
                declared_length=declared,
                uploaded=False,
                completed=False,
            )
            self._files[stored.id] = stored
            self._uploads[upload_id] = stored.id
            self._touch()
            return stored

    def upload_url(self, stored: StoredFile) -> str:
        return f"{self.base_url}/upload/v1/{stored.upload_id}"

    def receive_upload(self, upload_id: str, content: bytes) -> StoredFile:
        with self._lock:
            file_id = self._uploads.get(upload_id)
            if file_id is None:
                raise SlackError("upload_not_found", status=404)
            stored = self._files[file_id]
            stored.content = bytes(content)
            stored.uploaded = True
            self._touch()
            return stored

    def complete_upload(
        self,
        files: list[dict[str, Any]],
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        initial_comment: str | None = None,
    ) -> list[StoredFile]:
        with self._lock:
            if not files:
                raise SlackError("invalid_arguments", messages=["missing required field: files"])
            if channel:
                self._require_channel(channel)
            done: list[StoredFile] = []
            for entry in files:
                stored = self._files.get(str(entry.get("id", "")))
                if stored is None or stored.upload_id is None or not stored.uploaded:
                    raise SlackError("file_not_found")
                if stored.completed:
                    raise SlackError("file_already_completed")
                if entry.get("title"):
                    stored.title = str(entry["title"])
                done.append(stored)
            for stored in done:
                stored.completed = True
                stored.channel = channel
                stored.thread_ts = thread_ts
                stored.initial_comment = initial_comment
            if channel:
                message = self.post_message(
                    channel,
                    initial_comment or "",
                    thread_ts=thread_ts,
                    files=[f.id for f in done],
                    subtype="file_share",
                )
                for stored in done:
                    stored.share_ts = message.ts
                    stored.thread_ts = message.thread_ts
            for stored in done:
                self._touch(WorkspaceEvent("file_uploaded", channel, stored.share_ts, stored.user, stored))
            return done

    def redirect_download(self, file_id: str, location: str, *, times: int | None = None) -> None:
        """Make the download route answer 302 -> `location` (a path or a full URL),
        `times` times or until cleared with `location=""`."""
        with self._lock:
            stored = self._files[file_id]
            stored.redirect_to = location or None
            stored.redirects_left = times

    def record_download(self, download: Download) -> None:
        with self._lock:
            self._downloads.append(download)
            self._touch()

    @property
    def downloads(self) -> list[Download]:
        with self._lock:
            return list(self._downloads)

    # ------------------------------------------------------------------ response_url

    def new_response_url(
        self, channel: str, user: str, *, message_ts: str | None = None, is_ephemeral: bool = False
    ) -> str:
        with self._lock:
            target = ResponseTarget(secrets.token_hex(8), channel, user, message_ts, is_ephemeral)
            self._responses[target.id] = target
            return f"{self.base_url}/response/{target.id}"

    def respond(self, response_id: str, body: dict[str, Any]) -> ResponseTarget:
        """Apply a POST to a response_url like Slack does."""
        with self._lock:
            target = self._responses.get(response_id)
            if target is None:
                raise SlackError("expired_url", status=404)
            if target.uses >= RESPONSE_URL_MAX_USES:
                raise SlackError("used_url", status=404)
            target.uses += 1
            target.posts.append(copy.deepcopy(body))
            text = body.get("text")
            blocks = body.get("blocks")
            thread_ts = body.get("thread_ts")
            original_ephemeral = (
                self._ephemeral(target.channel, target.message_ts)
                if target.message_ts and target.is_ephemeral
                else None
            )
            if _flag(body.get("delete_original")):
                if original_ephemeral is not None:
                    original_ephemeral.deleted = True
                    self._touch(
                        WorkspaceEvent(
                            "ephemeral_deleted",
                            target.channel,
                            target.message_ts,
                            target.user,
                            original_ephemeral,
                        )
                    )
                elif target.message_ts:
                    message = self._require_message(target.channel, target.message_ts)
                    message.deleted = True
                    self._touch(
                        WorkspaceEvent("message_deleted", target.channel, message.ts, message.user, message)
                    )
                return target
            if _flag(body.get("replace_original")) and target.message_ts:
                # Like Slack, a replacement replaces the whole message: no blocks means none.
                if original_ephemeral is not None:
                    original_ephemeral.blocks = copy.deepcopy(validate_blocks(blocks)) if blocks else None
                    if text is not None:
                        original_ephemeral.text = str(text)
                    original_ephemeral.versions.append(
                        MessageVersion(
                            original_ephemeral.text,
                            copy.deepcopy(original_ephemeral.blocks),
                            None,
                            self.new_ts(),
                        )
                    )
                    self._touch(
                        WorkspaceEvent(
                            "ephemeral_updated",
                            target.channel,
                            target.message_ts,
                            target.user,
                            original_ephemeral,
                        )
                    )
                    return target
                message = self._require_message(target.channel, target.message_ts)
                self.update_message(
                    target.channel,
                    message.ts,
                    text=str(text) if text is not None else None,
                    blocks=blocks if blocks is not None else [],
                    by=message.user,
                )
                return target
            if body.get("response_type") == "in_channel":
                self.post_message(target.channel, text, blocks=blocks, thread_ts=thread_ts)
            else:
                self.post_ephemeral(
                    target.channel,
                    target.user,
                    text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    source="response_url",
                )
            return target

    def response_target(self, response_id_or_url: str) -> ResponseTarget | None:
        with self._lock:
            return self._responses.get(response_id_or_url.rstrip("/").rsplit("/", 1)[-1])

    # ------------------------------------------------------------------ assistant status

    def set_status(self, channel: str | None, thread_ts: str | None, status: Any) -> AssistantStatus:
        with self._lock:
            if not channel or not thread_ts or status is None:
                raise SlackError(
                    "invalid_arguments", messages=["channel_id, thread_ts and status are required"]
                )
            record = AssistantStatus(channel, thread_ts, str(status), time.time())
            self._statuses.append(record)
            self._touch(WorkspaceEvent("status_set", channel, thread_ts, None, record))
            return record

    def statuses(self, channel: str | None = None, thread_ts: str | None = None) -> list[AssistantStatus]:
        with self._lock:
            return [
                s
                for s in self._statuses
                if (channel is None or s.channel == channel)
                and (thread_ts is None or s.thread_ts == thread_ts)
            ]

    # ------------------------------------------------------------------ API call log

    def record_call(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._touch()

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every Web API call received (optionally only `method`), in arrival order."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._touch()

    # ------------------------------------------------------------------ fault injection

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls to `method` ("*" = any) answer HTTP 429 ratelimited."""
        self._add_fault(
            method, Fault("ratelimit", times, error="ratelimited", status=429, retry_after=retry_after)
        )

    def fail(self, method: str, error: str = "internal_error", times: int = 1, *, status: int = 200) -> None:
        """The next `times` calls to `method` ("*" = any) answer `{"ok": false, "error": error}`."""
        self._add_fault(method, Fault("error", times, error=error, status=status))

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls to `method` ("*" = any) are answered `seconds` late."""
        self._add_fault(method, Fault("delay", times, seconds=seconds))

    def _add_fault(self, method: str, fault: Fault) -> None:
        if fault.remaining < 1:
            return
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def take_fault(self, method: str) -> Fault | None:
        """Consume one pending fault for `method` (specific ones before "*")."""
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.popleft()
                    return copy.copy(fault)
            return None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()


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
