"""A job leased for one poll cycle: staged changes written together, fenced by the lease."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.storage.models import TuningJob
from bot.storage.store import Store


class LeaseHolder(Protocol):
    """What a lease needs of the poller that holds it."""

    store: Store
    owner: str
    lease_seconds: float
    clock: Callable[[], datetime]


class LeasedJob:
    """One leased job during a cycle: changes are staged and written together, fenced by
    the lease (a write fails once another process holds the job), off the event loop."""

    def __init__(
        self, poller: LeaseHolder, job: TuningJob, releases: list[tuple[int, dict[str, Any]]]
    ) -> None:
        assert job.id is not None
        self.poller = poller
        self.releases = releases
        self.job = job
        self.job_id = job.id
        self.claimed_at = poller.clock()
        self.staged: dict[str, Any] = {}

    def stage(self, **changes: Any) -> None:
        self.staged.update(changes)
        for key, value in changes.items():
            setattr(self.job, key, value)

    async def write(self, *, renew: bool = False, **changes: Any) -> bool:
        """Write what is staged plus `changes` now; False if the lease was lost."""
        self.stage(**changes)
        values = dict(self.staged)
        if renew:
            values["lease_expires_at"] = self.poller.clock() + timedelta(seconds=self.poller.lease_seconds)
        ok = await self.poller.store.run(
            self.poller.store.jobs.update_leased, self.job_id, self.poller.owner, **values
        )
        if ok:
            self.staged.clear()
        return ok

    async def renew_if_old(self) -> bool:
        """Renew the lease if a good part of it went by while the job waited its turn."""
        now = self.poller.clock()
        remaining = ((self.job.lease_expires_at or now) - now).total_seconds()
        if remaining > self.poller.lease_seconds * 2 / 3:
            return True
        return await self.write(renew=True)

    def release(self, *, next_in: float, interval: float) -> None:
        """Queue the job's last write (what is staged, and when to poll it next); the poller
        writes a whole batch's releases in one transaction."""
        values = {
            **self.staged,
            "next_poll_at": self.poller.clock() + timedelta(seconds=next_in),
            "poll_interval_seconds": interval,
        }
        self.releases.append((self.job_id, values))
        self.staged.clear()
