"""What a job's evaluation needs and leaves: its held-out examples and its report.

Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from bot.domain.types import TrainingExample
from bot.storage.engine import Repository
from bot.storage.models import (
    JobEvaluation,
    JobHoldout,
)
from bot.storage.repositories.datasets import decode_examples


class EvaluationRepository(Repository):
    def save_report(self, job_id: int, report_json: str) -> None:
        with self.session() as session:
            session.merge(JobEvaluation(job_id=job_id, report_json=report_json))
            session.commit()

    def report(self, job_id: int) -> str | None:
        with self.session() as session:
            row = session.get(JobEvaluation, job_id)
            return row.report_json if row else None

    def reports(self, job_ids: Iterable[int]) -> dict[int, str]:
        """Job id -> its stored report, for those of `job_ids` that have one (one query)."""
        wanted = list(job_ids)
        if not wanted:
            return {}
        with self.session() as session:
            query = select(JobEvaluation).where(col(JobEvaluation.job_id).in_(wanted))
            return {row.job_id: row.report_json for row in session.exec(query).all()}

    def held_out_examples(self, job_id: int) -> list[TrainingExample]:
        """The examples job `job_id` held out of training (empty when it held none out)."""
        holdout = self.holdout(job_id)
        return decode_examples(holdout.examples_gz) if holdout is not None else []

    def jobs_with_holdout(self, job_ids: Iterable[int]) -> set[int]:
        """Which of `job_ids` held examples out (one query for a whole poll batch)."""
        wanted = list(job_ids)
        if not wanted:
            return set()
        with self.session() as session:
            query = select(JobHoldout.job_id).where(col(JobHoldout.job_id).in_(wanted))
            return set(session.exec(query).all())

    def holdout(self, job_id: int) -> JobHoldout | None:
        """How job `job_id` held examples out (share or dataset, count, sent or kept), if it did."""
        with self.session() as session:
            return session.get(JobHoldout, job_id)

    def update_holdout(self, job_id: int, **changes: Any) -> None:
        with self.session() as session:
            holdout = session.get(JobHoldout, job_id)
            if holdout is None:
                return
            for key, value in changes.items():
                setattr(holdout, key, value)
            session.add(holdout)
            session.commit()
