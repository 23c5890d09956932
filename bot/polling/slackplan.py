"""Which Slack call goes next, within Slack's rate limits: the pure decision core.

Slack limits each Web API method per workspace (`chat.update` is Tier 3, about 50 calls a
minute) and `chat.postMessage` to about one message a second per channel, answering 429
with `Retry-After` beyond that. A poll cycle that finishes many jobs at once would ask for
far more, so the poller plans its calls:

- Notices and their charts go first: they are posted by the poll cycle itself, each
  notice after a turn of its channel (`ChannelPosts`: a short burst, then one a second),
  so they neither wait behind progress edits nor burst past the channel's limit.
- Progress edits are coalesced (`EditPlan`): one pending edit per job, the newest state
  replacing an older one, never queued behind stale ones; they are sent one at a time,
  spread evenly under the tier (`Budget`), the message shown longest ago first, so every
  message gets its turn; a finished job's last edit a little later (`FINAL_EDIT_GRACE`):
  its notice has already said so.
- After a 429 the plan pauses for `Retry-After` (`Budget.pause`): no burst of retries.

Nothing here does I/O or reads a clock: every decision takes `now` (seconds, monotonic).
The loop that sends the edits is `bot/polling/edits.py`. Acks never wait on any of this:
the listeners call Slack directly.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")

WINDOW_SECONDS = 60.0
# Tier 3 allows about 50 calls a minute per method; the poller keeps some for the listeners'
# own `chat.update` calls (`/tune try` answers, form results).
EDITS_PER_MINUTE = 40
# A finished job's last edit ranks as if its message had been shown this much later: its
# notice has already told the channel, the messages of running jobs have nothing else.
FINAL_EDIT_GRACE = 60.0
POST_BURST = 3
POSTS_PER_SECOND = 1.0


class Budget:
    """Calls of one method, spread evenly: at most `per_minute` in any sliding minute and
    no two closer than a minute / `per_minute`; none before a 429's `Retry-After` is over."""

    def __init__(self, per_minute: int = EDITS_PER_MINUTE, window: float = WINDOW_SECONDS) -> None:
        self.per_minute = per_minute
        self.window = window
        self.spacing = window / per_minute
        self._sent: deque[float] = deque()
        self._paused_until = float("-inf")

    def wait(self, now: float) -> float:
        """Seconds until one more call may go (0: now)."""
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        waits = [self._paused_until - now]
        if self._sent:
            waits.append(self._sent[-1] + self.spacing - now)
        if len(self._sent) >= self.per_minute:
            waits.append(self._sent[len(self._sent) - self.per_minute] + self.window - now)
        return max(0.0, *waits)

    def spend(self, now: float) -> None:
        self._sent.append(now)

    def pause(self, now: float, retry_after: float) -> None:
        """Slack answered 429: nothing more until `Retry-After` has passed."""
        self._paused_until = max(self._paused_until, now + retry_after)


class ChannelPosts:
    """`chat.postMessage` per channel: `burst` at once, then `per_second` (a token bucket)."""

    def __init__(self, burst: int = POST_BURST, per_second: float = POSTS_PER_SECOND) -> None:
        self.burst = burst
        self.per_second = per_second
        self._tokens: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def _level(self, channel: str, now: float) -> float:
        tokens, at = self._tokens.get(channel, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - at) * self.per_second)

    def wait(self, channel: str, now: float) -> float:
        """Seconds until `channel` takes one more post (0: now)."""
        level = self._level(channel, now)
        return 0.0 if level >= 1.0 else (1.0 - level) / self.per_second

    def take(self, channel: str, now: float) -> None:
        """Count a post (even one that has to wait: the bucket may go below zero, so posts
        queued for a channel are spaced one a second after each other)."""
        self._tokens[channel] = (self._level(channel, now) - 1.0, now)


@dataclass(frozen=True)
class Edit(Generic[P]):
    """One progress edit: the newest `payload` for job `job_id`."""

    job_id: int
    payload: P
    final: bool = False  # the job has finished (its notice has said so): its message's last edit


class EditPlan(Generic[P]):
    """Pending progress edits, one per job (the newest wins), and which goes next."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self._pending: dict[int, Edit[P]] = {}
        self._shown_at: dict[int, float] = {}  # when each job's message was last edited

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, job_id: int) -> bool:
        return job_id in self._pending

    def submit(self, edit: Edit[P]) -> None:
        """Queue `edit`, replacing whatever was pending for its job."""
        self._pending[edit.job_id] = edit

    def shown(self, job_id: int, now: float) -> None:
        """The job's message was posted or edited at `now` (by anyone)."""
        self._shown_at[job_id] = now

    def wait(self, now: float) -> float | None:
        """Seconds until the next edit may go (None: nothing pending)."""
        if not self._pending:
            return None
        return self.budget.wait(now)

    def take(self, now: float) -> Edit[P] | None:
        """The edit to send now, spending the budget; None when nothing may go yet.
        The job whose message was shown longest ago goes first (never shown: first of all),
        a finished job's last edit as if shown `FINAL_EDIT_GRACE` later."""
        if not self._pending or self.budget.wait(now) > 0:
            return None

        def rank(job_id: int) -> tuple[float, int]:
            shown = self._shown_at.get(job_id, float("-inf"))
            return (shown + FINAL_EDIT_GRACE if self._pending[job_id].final else shown, job_id)

        job_id = min(self._pending, key=rank)
        self.budget.spend(now)
        return self._pending.pop(job_id)

    def sent(self, edit: Edit[P], now: float) -> None:
        self.shown(edit.job_id, now)

    def failed(self, edit: Edit[P], now: float, retry_after: float | None = None) -> None:
        """Slack refused `edit`: queue it again unless a newer one came meanwhile; after a
        429, pause for its `Retry-After`."""
        self._pending.setdefault(edit.job_id, edit)
        if retry_after is not None:
            self.budget.pause(now, retry_after)

    def forget(self, job_id: int) -> None:
        self._pending.pop(job_id, None)
        self._shown_at.pop(job_id, None)
