"""Slack's Web API rate limits, enforced by the fake Slack as Slack enforces them.

Slack limits each Web API method per app per workspace by *tier*
(https://api.slack.com/docs/rate-limits), answering HTTP 429 with `Retry-After`:

| Tier | Calls a minute | Slack's words |
| --- | --- | --- |
| Tier 1 | 1+ | "access tier 1 methods infrequently" |
| Tier 2 | 20+ | "most methods"; occasional bursts |
| Tier 3 | 50+ | paginated collections; "sporadic bursts are welcome" |
| Tier 4 | 100+ | "generous burst behavior" |
| Special | varies | `chat.postMessage`: one message a second per channel, short bursts |

The methods the fake serves, by their tier on Slack's method pages (`METHOD_TIERS`):

- Tier 2 (20 a minute): `usergroups.users.list`.
- Tier 3 (50 a minute): `chat.update`, `chat.delete`, `conversations.history`,
  `conversations.replies`, `conversations.info`, `conversations.join`,
  `conversations.open`, `assistant.threads.setStatus`, `users.conversations`.
- Tier 4 (100 a minute): `chat.postEphemeral`, `chat.getPermalink`, `views.open`,
  `views.push`, `views.update`, `views.publish`, `files.getUploadURLExternal`,
  `files.completeUploadExternal`, `files.info`, `users.info`.
- Special: `chat.postMessage`, one a second per channel (`POST_BURST` at once, then one a
  second) and `POST_WORKSPACE_PER_MINUTE` a minute in the workspace (Slack keeps "a
  workspace-wide limit" without a published figure).
- Not limited here (special, very high): `auth.test`, `api.test`, `files.upload`.

How: a sliding one-minute window per method, and for `chat.postMessage` a token bucket
per channel as well, measured on the workspace's clock (`Workspace(clock=)`), never on
the wall clock, so a test that moves a manual clock moves the windows. A call over a
limit is answered HTTP 429 `{"ok": false, "error": "ratelimited"}` with `Retry-After`:
the whole seconds until one more call fits (at least 1). A refused call does not count
(Slack did nothing for it). Limits are on by default; `Workspace(rate_limits=False)` or
`workspace.rate_limits.enabled = False` turns them off for tests that do not measure rate.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Mapping

WINDOW_SECONDS = 60.0

TIER_PER_MINUTE: Mapping[int, int] = {1: 1, 2: 20, 3: 50, 4: 100}

# chat.postMessage ("special"): one message a second per channel, with a short burst.
POST_METHOD = "chat.postMessage"
POST_PER_SECOND = 1.0
POST_BURST = 3  # messages a channel may take at once before the 1-a-second rate applies
POST_WORKSPACE_PER_MINUTE = 600  # Slack: "a workspace-wide limit" (unpublished; several hundred)

METHOD_TIERS: Mapping[str, int] = {
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.open": 3,
    "views.open": 4,
    "views.push": 4,
    "views.update": 4,
    "views.publish": 4,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "files.info": 4,
    "users.info": 4,
    "users.conversations": 3,
    "usergroups.users.list": 2,
    "assistant.threads.setStatus": 3,
}


def per_minute(method: str) -> int | None:
    """The calls a minute the fake allows `method` (None: not limited)."""
    if method == POST_METHOD:
        return POST_WORKSPACE_PER_MINUTE
    tier = METHOD_TIERS.get(method)
    return None if tier is None else TIER_PER_MINUTE[tier]


class _Window:
    """The times of the calls admitted in the last `span` seconds."""

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """0 when one more call fits now, else the seconds until it will."""
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[len(self.times) - self.limit] + self.span - now


class _Bucket:
    """A channel's posts: `burst` at once, then `rate` a second (a token bucket)."""

    def __init__(self, burst: int, rate: float, now: float) -> None:
        self.burst = burst
        self.rate = rate
        self.tokens = float(burst)
        self.at = now

    def wait(self, now: float) -> float:
        self.tokens = min(float(self.burst), self.tokens + max(0.0, now - self.at) * self.rate)
        self.at = max(self.at, now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class RateLimits:
    """Per-method (and, for `chat.postMessage`, per-channel) sliding windows."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._methods: dict[str, _Window] = {}
        self._channels: dict[str, _Bucket] = {}
        self.refused = 0  # calls answered 429 by these limits

    def admit(self, method: str, channel: str | None, now: float) -> int | None:
        """Count the call and return None when it is within the limits; otherwise count
        nothing and return its Retry-After (whole seconds, at least 1)."""
        if not self.enabled:
            return None
        limit = per_minute(method)
        if limit is None:
            return None
        with self._lock:
            window = self._methods.setdefault(method, _Window(limit, WINDOW_SECONDS))
            wait = window.wait(now)
            bucket: _Bucket | None = None
            if method == POST_METHOD and channel:
                bucket = self._channels.setdefault(channel, _Bucket(POST_BURST, POST_PER_SECOND, now))
                wait = max(wait, bucket.wait(now))
            if wait > 0:
                self.refused += 1
                return max(1, math.ceil(wait))
            window.times.append(now)
            if bucket is not None:
                bucket.take()
            return None

    def reset(self) -> None:
        with self._lock:
            self._methods.clear()
            self._channels.clear()
            self.refused = 0
