"""APScheduler as each process's timer. The schedule and every job's state live in
tunebot's own tables (see `Poller`), so the scheduler keeps nothing but an interval
in memory: nothing is pickled, no job store is shared between processes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.polling.poller import Poller

log = logging.getLogger(__name__)

EVENT_MEMORY = timedelta(days=1)


def local_now() -> datetime:
    """Now, aware, in the machine's zone (APScheduler's own clock)."""
    return datetime.now().astimezone()


class PollScheduler:
    def __init__(
        self, poller: Poller, interval_seconds: float, *, clock: Callable[[], datetime] = local_now
    ) -> None:
        self.poller = poller
        self.interval_seconds = interval_seconds
        self.clock = clock
        self._scheduler = AsyncIOScheduler(timezone="UTC")

    def start(self) -> None:
        """Start ticking; the first cycle runs at once so a restart resumes right away."""
        self._scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.interval_seconds,
            id="tunebot-poll",
            max_instances=1,
            coalesce=True,
            next_run_time=self.clock(),
            misfire_grace_time=None,
        )
        self._scheduler.add_job(self._forget_old_events, "interval", hours=1, id="tunebot-forget-events")
        self._scheduler.start()

    async def _forget_old_events(self) -> None:
        """Keep the Events API de-duplication table small: Slack retries within minutes."""
        store = self.poller.store
        forgotten = await store.run(store.events.forget_older_than, EVENT_MEMORY, now=self.clock())
        if forgotten:
            log.info("forgot %d old event deliveries", forgotten)

    async def _tick(self) -> None:
        report = await self.poller.run_cycle()
        if report.claimed:
            log.info(
                "poll cycle: %d jobs, %d polls, %d edits, %d notices, %d errors",
                report.claimed,
                report.polled,
                report.edits,
                report.notices,
                report.errors,
            )

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
