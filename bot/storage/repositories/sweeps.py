"""Sweeps (`/tune sweep`): the sweep rows and their variants, and the lease of the process
refreshing a sweep's leaderboard (the same pattern as tuning jobs and `/tune eval` requests: a
claim with `FOR UPDATE SKIP LOCKED` on PostgreSQL, checked again in the UPDATE, and writes
fenced by the lease). Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.domain.sweeps import SWEEP_STARTED, SWEEP_STARTING
from bot.storage.engine import Repository
from bot.storage.models import Sweep, TuningJob


class SweepRepository(Repository):
    def create(self, sweep: Sweep) -> Sweep:
        with self.session() as session:
            session.add(sweep)
            session.commit()
            session.refresh(sweep)
            return sweep

    def get(self, sweep_id: int) -> Sweep | None:
        with self.session() as session:
            return session.get(Sweep, sweep_id)

    def variants(self, sweep_id: int) -> list[TuningJob]:
        """The sweep's jobs, in the order they were started."""
        with self.session() as session:
            query = select(TuningJob).where(TuningJob.sweep_id == sweep_id).order_by(col(TuningJob.id))
            return list(session.exec(query).all())

    def variants_of(self, sweep_ids: Iterable[int]) -> list[TuningJob]:
        """The jobs of all of `sweep_ids` (one query), each sweep's in the order they were started."""
        wanted = list(sweep_ids)
        if not wanted:
            return []
        with self.session() as session:
            query = (
                select(TuningJob)
                .where(col(TuningJob.sweep_id).in_(wanted))
                .order_by(col(TuningJob.sweep_id), col(TuningJob.id))
            )
            return list(session.exec(query).all())

    def recent(self, team_id: str, limit: int) -> list[Sweep]:
        """The team's `limit` newest sweeps, newest first."""
        with self.session() as session:
            query = select(Sweep).where(Sweep.team_id == team_id).order_by(col(Sweep.id).desc()).limit(limit)
            return list(session.exec(query).all())

    def many(self, sweep_ids: Iterable[int]) -> list[Sweep]:
        """The sweeps among `sweep_ids` (one query)."""
        wanted = list(sweep_ids)
        if not wanted:
            return []
        with self.session() as session:
            return list(session.exec(select(Sweep).where(col(Sweep.id).in_(wanted))).all())

    def delete(self, sweep_id: int) -> None:
        """Remove a sweep none of whose variants started."""
        with self.session() as session:
            sweep = session.get(Sweep, sweep_id)
            if sweep is not None:
                session.delete(sweep)
                session.commit()

    def claim(self, *, owner: str, now: datetime, lease_seconds: float, limit: int = 10) -> list[Sweep]:
        """Lease to `owner` the sweeps whose end notice is not posted yet (their leaderboard may
        still change) that no live process holds (a lease that expired, its process died, makes
        a sweep claimable again). The copies returned are read after the claim, so they show
        what the last holder wrote."""
        free = or_(col(Sweep.lease_owner).is_(None), col(Sweep.lease_expires_at) < now)
        unfinished = col(Sweep.notice_state) != "posted"
        with self.session() as session:
            query = (
                select(Sweep)
                .where(unfinished, free)
                .order_by(col(Sweep.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            candidates = [s.id for s in session.exec(query).all()]
            if not candidates:
                session.commit()
                return []
            # The lease is checked again in the UPDATE (SQLite has no FOR UPDATE).
            won = list(
                session.execute(
                    update(Sweep)
                    .where(col(Sweep.id).in_(candidates), unfinished, free)
                    .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_seconds))
                    .returning(col(Sweep.id))
                ).scalars()
            )
            # Read again inside the claiming transaction: on SQLite the first read was not
            # locked, and another process may have written the row since.
            sweeps = list(
                session.exec(
                    select(Sweep)
                    .where(col(Sweep.id).in_(won))
                    .order_by(col(Sweep.id))
                    .execution_options(populate_existing=True)
                ).all()
            )
            session.commit()
            return sweeps

    def update_leased(self, sweep_id: int, owner: str, **changes: Any) -> bool:
        """Write `changes` only if `owner` still holds the sweep's lease (a fenced update)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Sweep)
                .where(col(Sweep.id) == sweep_id, col(Sweep.lease_owner) == owner)
                .values(**changes)
            )
            return bool(result.rowcount)

    def release(self, sweep_id: int, owner: str) -> bool:
        """Give the lease up (the next cycle of any process may take the sweep)."""
        return self.update_leased(sweep_id, owner, lease_owner=None, lease_expires_at=None)

    def renew_start(self, sweep_id: int, *, now: datetime, hold_seconds: float) -> bool:
        """The starting process, before it starts its next variant: renew its start hold,
        unless it has expired already (then the sweep's lease holder may be resuming the
        start, and the starting process leaves the rest to it)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Sweep)
                .where(
                    col(Sweep.id) == sweep_id,
                    col(Sweep.start_state) == SWEEP_STARTING,
                    col(Sweep.start_expires_at) >= now,
                )
                .values(start_expires_at=now + timedelta(seconds=hold_seconds))
            )
            return bool(result.rowcount)

    def mark_started(self, sweep_id: int) -> bool:
        """Every variant of the sweep was handed to the start: nothing to resume."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Sweep)
                .where(col(Sweep.id) == sweep_id, col(Sweep.start_state) == SWEEP_STARTING)
                .values(start_state=SWEEP_STARTED, start_expires_at=None)
            )
            return bool(result.rowcount)
