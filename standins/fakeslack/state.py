"""The workspace's state and plumbing: one re-entrant lock, change notification, ids, waiting."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from standins.fakeslack.ratelimits import RateLimits
from standins.fakeslack.records import (
    DEFAULT_CHANNEL,
    AssistantStatus,
    Channel,
    Download,
    Ephemeral,
    Fault,
    Message,
    RecordedCall,
    ResponseTarget,
    StoredFile,
    Subscriber,
    Trigger,
    User,
    View,
    WorkspaceEvent,
)

log = logging.getLogger("standins.fakeslack.workspace")

T = TypeVar("T")


class WorkspaceState:
    """What every part of the fake Web API shares (see `Workspace`)."""

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
        clock: Callable[[], float] = time.monotonic,
        rate_limits: bool = True,
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
        # What trigger_ids expire by (seconds, monotonic); tests pass a clock they move by hand.
        self.clock = clock
        # Slack's per-method rate limits, on the same clock (`ratelimits.py`); off for tests
        # that do not measure rate.
        self.rate_limits = RateLimits(enabled=rate_limits)
        self.missing_scopes: set[str] = set()

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._version = 0
        self._last_ts_us = 0
        self._ids = itertools.count(1)
        self._users: dict[str, User] = {}
        self._channels: dict[str, Channel] = {}
        self._usergroups: dict[str, list[str]] = {}  # user group id -> its members
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
        self._channels[DEFAULT_CHANNEL] = Channel(DEFAULT_CHANNEL, "general")
        self._messages[DEFAULT_CHANNEL] = {}

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

    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
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

    async def async_wait_for(self, predicate: Callable[[], T | None], timeout: float = 5.0) -> T:
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
