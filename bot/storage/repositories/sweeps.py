"""Sweeps (`/tune sweep`): the sweep rows and their variants. Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

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

    def unfinished(self) -> list[Sweep]:
        """Sweeps whose end notice is not posted yet (their leaderboard may still change)."""
        with self.session() as session:
            query = select(Sweep).where(Sweep.notice_state != "posted").order_by(col(Sweep.id))
            return list(session.exec(query).all())

    def update(self, sweep_id: int, **changes: Any) -> None:
        with self.session() as session:
            session.execute(update(Sweep).where(col(Sweep.id) == sweep_id).values(**changes))
            session.commit()

    def move_state(self, sweep_id: int, column: str, *, from_: str, to: str) -> bool:
        """Move `message_state` or `notice_state` from one value to another, only if it holds
        `from_` (a claim: of two processes, one wins)."""
        assert column in ("message_state", "notice_state")
        with self.session() as session:
            result = session.execute(
                update(Sweep)
                .where(col(Sweep.id) == sweep_id, getattr(Sweep, column) == from_)
                .values({column: to})
            )
            session.commit()
            return bool(getattr(result, "rowcount", 0))
