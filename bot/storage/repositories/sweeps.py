"""Sweeps (`/tune sweep`): the sweep rows and their variants. Each public method is one transaction."""

from __future__ import annotations

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

    def delete(self, sweep_id: int) -> None:
        """Remove a sweep none of whose variants started."""
        with self.session() as session:
            sweep = session.get(Sweep, sweep_id)
            if sweep is not None:
                session.delete(sweep)
                session.commit()
