"""Tuning jobs and the leases pollers hold on them.

Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Update, bindparam, or_, update
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from bot.domain.states import PENDING_NOTICE_STATES as PENDING_NOTICES
from bot.domain.states import NoticeState
from bot.domain.types import JobState, SentHyperparameters
from bot.storage.engine import Repository
from bot.storage.models import (
    JobHoldout,
    ModelOwnership,
    TuningJob,
    utcnow,
)

ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)


# The claim query's IN list (bot/domain/states.py), in a fixed order.
PENDING_NOTICE_STATES = tuple(sorted(PENDING_NOTICES))


# The reads `/tune status` and `/tune datasets` answer in the ack, built once: building a
# select costs SQLAlchemy more than SQLite takes to run it (a status read went from about
# 220 to 100 microseconds, a datasets read from 360 to 100).
_JOBS_OF_OWNER = (
    select(TuningJob)
    .where(TuningJob.team_id == bindparam("team_id"), TuningJob.owner_user_id == bindparam("owner"))
    .order_by(col(TuningJob.created_at).desc(), col(TuningJob.id).desc())
    .limit(bindparam("limit"))
)


def started_hyperparameters(sent: SentHyperparameters | None) -> dict[str, Any]:
    """The columns for what a Vertex AI job received: the JSON, and the epoch count when
    the answer names it (Vertex chose it when none was sent)."""
    if sent is None:
        return {}
    columns: dict[str, Any] = {"hyperparameters": sent.to_json()}
    if sent.epoch_count is not None:
        columns["epoch_count"] = sent.epoch_count
    return columns


def _fenced_update(connection: Connection, job_id: int, owner: str, changes: dict[str, Any]) -> bool:
    values = {"updated_at": utcnow(), **changes}
    params = {f"new_{name}": value for name, value in values.items()}
    params.update(fence_id=job_id, fence_owner=owner)
    return bool(connection.execute(_fenced_update_statement(tuple(sorted(values))), params).rowcount)


@lru_cache(maxsize=64)
def _fenced_update_statement(columns: tuple[str, ...]) -> Update:
    """UPDATE tuning_job SET <columns> WHERE id = :fence_id AND lease_owner = :fence_owner,
    built once per set of columns: a poll cycle writes a few shapes a thousand times, and
    building the statement cost SQLAlchemy more than SQLite took to run it."""
    table = TuningJob.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id == bindparam("fence_id"), table.c.lease_owner == bindparam("fence_owner"))
        .values({table.c[name]: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns})
    )


class JobRepository(Repository):
    def create(self, job: TuningJob, holdout: JobHoldout | None = None) -> TuningJob:
        """Insert a job, and with `holdout` its held-out examples, in one transaction."""
        with self.session() as session:
            session.add(job)
            if holdout is not None:
                session.flush()
                assert job.id is not None
                holdout.job_id = job.id
                session.add(holdout)
            session.commit()
            session.refresh(job)
            return job

    def get(self, job_id: int) -> TuningJob | None:
        with self.session() as session:
            return session.get(TuningJob, job_id)

    def update(self, job_id: int, **changes: Any) -> TuningJob:
        with self.session() as session:
            job = session.get(TuningJob, job_id)
            if job is None:
                raise LookupError(f"job {job_id} does not exist")
            for key, value in changes.items():
                setattr(job, key, value)
            job.updated_at = utcnow()
            session.add(job)
            session.commit()
            return job

    def claim_cancel(self, job_id: int, user_id: str) -> bool:
        """`/tune cancel`: record who cancels a job still tuning, and that it gets no end-of-job
        notice (the job message says it was cancelled), in one conditional write, so two clicks
        (or replicas) cannot both cancel it. False when it has ended, is still starting, or
        someone's cancel came first."""
        with self.session() as session:
            won = session.execute(
                update(TuningJob)
                .where(
                    col(TuningJob.id) == job_id,
                    col(TuningJob.cancelled_by).is_(None),
                    col(TuningJob.state).in_(ACTIVE_STATES),
                    col(TuningJob.notice_state) == NoticeState.NONE.value,
                )
                .values(cancelled_by=user_id, notice_state=NoticeState.SKIPPED.value, updated_at=utcnow())
                .returning(col(TuningJob.id))
            ).first()
            session.commit()
        return won is not None

    def unclaim_cancel(self, job_id: int, user_id: str) -> None:
        """Undo `claim_cancel` when the service did not cancel the job (it had ended, or the
        call failed): the job gets its end-of-job notice again."""
        with self.session() as session:
            session.execute(
                update(TuningJob)
                .where(col(TuningJob.id) == job_id, col(TuningJob.cancelled_by) == user_id)
                .values(cancelled_by=None, notice_state=NoticeState.NONE.value, updated_at=utcnow())
            )
            session.commit()

    def for_model(self, model_name: str) -> TuningJob | None:
        """The newest job that made `model_name`."""
        with self.session() as session:
            return session.exec(
                select(TuningJob).where(TuningJob.model_name == model_name).order_by(col(TuningJob.id).desc())
            ).first()

    def delete(self, job_id: int) -> None:
        with self.session() as session:
            holdout = session.get(JobHoldout, job_id)
            if holdout is not None:
                session.delete(holdout)
                session.flush()
            job = session.get(TuningJob, job_id)
            if job is not None:
                session.delete(job)
                session.commit()

    def for_owner(self, team_id: str, owner_user_id: str, *, limit: int = 20) -> list[TuningJob]:
        """The owner's latest `limit` jobs, newest first."""
        with self.session() as session:
            params = {"team_id": team_id, "owner": owner_user_id, "limit": limit}
            return list(session.exec(_JOBS_OF_OWNER, params=params).all())

    def active(self) -> list[TuningJob]:
        with self.session() as session:
            return list(session.exec(select(TuningJob).where(col(TuningJob.state).in_(ACTIVE_STATES))).all())

    def claim_due(
        self,
        *,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int = 1000,
        job_ids: Sequence[int] | None = None,
    ) -> list[TuningJob]:
        """Lease the jobs due for a poll (or with a notice still to post) to `owner`.

        On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so replicas
        claiming at the same moment never get the same job; a lease that expires
        (its process died) makes the job claimable again.
        """
        with self.session() as session:
            query = (
                select(TuningJob)
                .where(
                    or_(
                        col(TuningJob.state).in_(ACTIVE_STATES),
                        col(TuningJob.notice_state).in_(PENDING_NOTICE_STATES),
                    ),
                    col(TuningJob.notice_state) != NoticeState.STARTING,
                    TuningJob.next_poll_at <= now,
                    or_(col(TuningJob.lease_owner).is_(None), col(TuningJob.lease_expires_at) < now),
                )
                .order_by(col(TuningJob.next_poll_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            if job_ids is not None:
                query = query.where(col(TuningJob.id).in_(list(job_ids)))
            jobs = list(session.exec(query).all())
            expires = now + timedelta(seconds=lease_seconds)
            if jobs:
                # The lease condition is checked again in the UPDATE itself: SQLite has no
                # FOR UPDATE and runs the SELECT outside the write transaction, so two
                # claims (say, a cycle and a just-started job) could both have read a row
                # as free; only the one whose UPDATE matched gets it.
                won = set(
                    session.execute(
                        update(TuningJob)
                        .where(
                            col(TuningJob.id).in_([job.id for job in jobs]),
                            or_(col(TuningJob.lease_owner).is_(None), col(TuningJob.lease_expires_at) < now),
                        )
                        .values(lease_owner=owner, lease_expires_at=expires)
                        .returning(col(TuningJob.id))
                    ).scalars()
                )
                jobs = [job for job in jobs if job.id in won]
            session.commit()
        for job in jobs:  # detached copies, now matching the rows
            job.lease_owner = owner
            job.lease_expires_at = expires
        return jobs

    def update_leased(self, job_id: int, owner: str, **changes: Any) -> bool:
        """Write `changes` only if `owner` still holds the job's lease (a fenced update)."""
        with self.engine.begin() as connection:
            return _fenced_update(connection, job_id, owner, changes)

    def release(self, owner: str, releases: Sequence[tuple[int, dict[str, Any]]]) -> int:
        """Release many leased jobs in one transaction (the end of a poll batch); each write
        is fenced on its own. Returns how many this owner still held."""
        if not releases:
            return 0
        held = 0
        with self.engine.begin() as connection:
            for job_id, changes in releases:
                values = {**changes, "lease_owner": None, "lease_expires_at": None}
                held += _fenced_update(connection, job_id, owner, values)
        return held

    def make_all_due(self) -> None:
        """End every job's wait before its next poll (tests and the offline demo)."""
        with self.session() as session:
            session.execute(update(TuningJob).values(next_poll_at=datetime(2000, 1, 1, tzinfo=UTC)))
            session.commit()

    def unstarted(self, now: datetime) -> list[TuningJob]:
        """Jobs whose create call was sent (or about to be) by a process that no longer
        holds them (its lease expired: it died during `/tune start`)."""
        with self.session() as session:
            return list(
                session.exec(
                    select(TuningJob).where(
                        TuningJob.notice_state == NoticeState.STARTING,
                        or_(col(TuningJob.lease_expires_at).is_(None), col(TuningJob.lease_expires_at) < now),
                    )
                ).all()
            )

    def record_started(
        self,
        job_id: int,
        *,
        model_name: str,
        operation_name: str,
        total_steps: int | None,
        hyperparameters: SentHyperparameters | None = None,
    ) -> TuningJob | None:
        """Record what the service created for a starting job, and who owns the model, in
        one transaction. None when the job is not starting any more (whoever got there
        first, the `/tune start` that sent the create or a poller recovering it, wins)."""
        with self.session() as session:
            result = session.execute(
                update(TuningJob)
                .where(col(TuningJob.id) == job_id, col(TuningJob.notice_state) == NoticeState.STARTING)
                .values(
                    model_name=model_name,
                    operation_name=operation_name,
                    total_steps=total_steps,
                    completed_steps=0,
                    **started_hyperparameters(hyperparameters),
                    notice_state=NoticeState.NONE,
                    lease_owner=None,
                    lease_expires_at=None,
                    updated_at=utcnow(),
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return None
            job = session.get(TuningJob, job_id)
            assert job is not None
            if session.get(ModelOwnership, model_name) is None:
                session.add(
                    ModelOwnership(
                        model_name=model_name,
                        team_id=job.team_id,
                        owner_user_id=job.owner_user_id,
                        job_id=job_id,
                    )
                )
            session.commit()
            session.refresh(job)
            return job

    def team_models(self, team_id: str) -> list[TuningJob]:
        """The team's jobs that made (or are making) a model not deleted through tunebot, newest first."""
        with self.session() as session:
            query = (
                select(TuningJob)
                .outerjoin(ModelOwnership, col(ModelOwnership.model_name) == TuningJob.model_name)
                .where(
                    TuningJob.team_id == team_id,
                    col(TuningJob.model_name).is_not(None),
                    col(ModelOwnership.deleted_at).is_(None),
                )
                .order_by(col(TuningJob.created_at).desc(), col(TuningJob.id).desc())
            )
            return list(session.exec(query).all())
