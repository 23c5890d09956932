"""The I/O half of `bot/polling/slackplan.py`: the loop that sends progress edits as the plan
says, and the turns the poll cycle takes before each post in a channel.

Both read `clock` (seconds, monotonic) and wait with `sleep`; tests and the benchmarks pass a
manual clock and its sleep, so a simulated hour of rate limits takes no real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.domain.types import JobState
from bot.polling.ports import JobReporter, ReporterError
from bot.polling.slackplan import Budget, ChannelPosts, Edit, EditPlan
from bot.polling.view import JobView
from bot.storage.models import TuningJob
from bot.storage.store import Store

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Payload = tuple[TuningJob, JobView, str]  # the job as claimed, what to show, its signature


class ProgressEditor:
    """Sends coalesced progress edits one at a time, spread under the tier (`EditPlan`).

    The poll cycle hands over the newest view of a job (`submit`) and goes on; the edit goes
    out when the budget allows, and its signature is recorded then (so a refused edit is
    simply submitted again by a later cycle, with whatever is newest by then)."""

    def __init__(
        self,
        reporter: JobReporter,
        store: Store,
        *,
        budget: Budget | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.reporter = reporter
        self.store = store
        self.plan: EditPlan[Payload] = EditPlan(budget)
        self.clock = clock
        self.sleep = sleep
        self.sent = 0
        self.sending = False  # an edit is on its way to Slack
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def submit(self, job: TuningJob, view: JobView, signature: str) -> None:
        assert job.id is not None
        self.plan.submit(Edit(job.id, (job, view, signature), final=JobState(view.state).finished))
        self._idle.clear()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="tunebot-progress-edits")

    def shown(self, job_id: int) -> None:
        """The job's message was just posted (it counts as shown)."""
        self.plan.shown(job_id, self.clock())

    def due(self) -> bool:
        """An edit is on its way, or may go now (for a driver of a simulated clock)."""
        return self.sending or self.plan.wait(self.clock()) == 0

    async def drain(self) -> None:
        """Until every pending edit has been sent (or refused)."""
        await self._idle.wait()

    async def _run(self) -> None:
        while True:
            wait = self.plan.wait(self.clock())
            if wait is None:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if wait > 0:
                await self.sleep(wait)
                continue
            edit = self.plan.take(self.clock())
            if edit is not None:
                self.sending = True
                try:
                    await self._send(edit)
                finally:
                    self.sending = False

    async def _send(self, edit: Edit[Payload]) -> None:
        job, view, signature = edit.payload
        current = await self.store.run(self.store.jobs.get, edit.job_id)
        if current is None or _outdated(current, view, signature):
            # Shown already, or the job was cancelled meanwhile (`/tune delete` wrote who did it
            # into the message): the edit would only take that back.
            return
        try:
            await self.reporter.update_progress(job, view)
        except ReporterError as exc:
            if exc.retry_after is not None:
                self.plan.failed(edit, self.clock(), exc.retry_after)
            # Otherwise dropped: the signature is not recorded, so the next cycle submits it again.
            log.warning("job %s: progress message not updated (%s)", edit.job_id, exc)
            return
        except Exception:
            log.exception("job %s: progress edit failed", edit.job_id)
            return
        self.sent += 1
        self.plan.sent(edit, self.clock())
        try:
            await self.store.run(self.store.jobs.update, edit.job_id, shown_signature=signature)
        except LookupError:
            self.plan.forget(edit.job_id)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _outdated(current: TuningJob, view: JobView, signature: str) -> bool:
    if current.shown_signature == signature:
        return True
    if current.cancelled_by and view.cancelled_by != current.cancelled_by:
        return True  # drawn before `/tune cancel` wrote who cancelled it: would take that back
    return current.state == JobState.CANCELLED.value and view.state != JobState.CANCELLED.value


class PostTurns:
    """The poll cycle's posts in a channel: one at a time, one a second after a short burst
    (`ChannelPosts`). A post holds its channel's `slot` while it waits for its turn and while
    it is sent, so posts reach Slack in the order of their turns."""

    def __init__(
        self,
        posts: ChannelPosts | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.posts = posts or ChannelPosts()
        self.clock = clock
        self.sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def slot(self, channel: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self.posts.wait(channel, self.clock())
            if wait > 0:
                await self.sleep(wait)
            self.posts.take(channel, self.clock())
            yield
