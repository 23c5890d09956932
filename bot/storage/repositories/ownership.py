"""Who owns each tuned model, and which were deleted through tunebot.

Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select

from bot.domain.states import NoticeState
from bot.domain.types import JobState
from bot.storage.engine import Repository
from bot.storage.models import (
    ModelOwnership,
    TuningJob,
    utcnow,
)
from bot.storage.repositories.jobs import ACTIVE_STATES


class OwnershipRepository(Repository):
    def record(self, *, model_name: str, team_id: str, owner_user_id: str, job_id: int | None) -> None:
        with self.session() as session:
            row = session.get(ModelOwnership, model_name)
            if row is None:
                row = ModelOwnership(
                    model_name=model_name, team_id=team_id, owner_user_id=owner_user_id, job_id=job_id
                )
            session.add(row)
            session.commit()

    def get(self, model_name: str) -> ModelOwnership | None:
        with self.session() as session:
            return session.get(ModelOwnership, model_name)

    def owners_of(self, model_names: Iterable[str]) -> dict[str, str]:
        names = list(model_names)
        if not names:
            return {}
        with self.session() as session:
            rows = session.exec(select(ModelOwnership).where(col(ModelOwnership.model_name).in_(names))).all()
        return {row.model_name: row.owner_user_id for row in rows}

    def deleted(self, model_names: Iterable[str]) -> set[str]:
        """Which of these models were deleted through tunebot (a service may still list them)."""
        names = list(model_names)
        if not names:
            return set()
        with self.session() as session:
            rows = session.exec(
                select(ModelOwnership.model_name).where(
                    col(ModelOwnership.model_name).in_(names), col(ModelOwnership.deleted_at).is_not(None)
                )
            ).all()
        return set(rows)

    def mark_deleted(self, model_name: str, deleted_by: str) -> list[TuningJob]:
        """Record the deletion and stop polling any job still tuning that model; returns
        the jobs it cancelled."""
        now = utcnow()
        with self.session() as session:
            row = session.get(ModelOwnership, model_name)
            if row is not None and row.deleted_at is None:
                row.deleted_at = now
                row.deleted_by = deleted_by
                session.add(row)
            jobs = session.exec(
                select(TuningJob).where(
                    TuningJob.model_name == model_name, col(TuningJob.state).in_(ACTIVE_STATES)
                )
            ).all()
            for job in jobs:
                job.state = JobState.CANCELLED.value
                job.finished_at = now
                job.updated_at = now
                job.notice_state = NoticeState.SKIPPED
                session.add(job)
            session.commit()
            return list(jobs)
