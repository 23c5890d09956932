"""Reading and writing tunebot's records. Each public method is one transaction."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Update, bindparam, delete, event, func, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, create_engine, select

from bot.storage import schema
from bot.storage.models import (
    Dataset,
    DatasetContent,
    DatasetInsightRow,
    JobEvaluation,
    JobHoldout,
    ModelOwnership,
    SeenEvent,
    TryThread,
    TuningJob,
    utcnow,
)
from bot.tuning.types import JobState, TrainingPair

ACTIVE_STATES = (JobState.QUEUED.value, JobState.RUNNING.value)
PENDING_NOTICE_STATES = ("none", "posting", "posted")


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (the default, one process) or PostgreSQL (replicas)."""
    url = database_url
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


ENCODE_CHUNK = 2_000


def encode_examples(pairs: Iterable[TrainingPair]) -> bytes:
    """gzip'd JSON `[[input, output], ...]`, encoded a chunk at a time: one `json.dumps` of
    100,000 pairs holds the GIL (the event loop, when called from a worker thread) for
    tens of milliseconds in a single C call."""
    rows = [[p.text_input, p.output] for p in pairs]
    chunks = (
        json.dumps(rows[i : i + ENCODE_CHUNK], ensure_ascii=False)[1:-1]
        for i in range(0, len(rows), ENCODE_CHUNK)
    )
    payload = "[" + ", ".join(chunks) + "]"
    return gzip.compress(payload.encode("utf-8"), compresslevel=5)


def decode_examples(blob: bytes) -> list[TrainingPair]:
    return [TrainingPair(text_input=i, output=o) for i, o in json.loads(gzip.decompress(blob))]


# The reads `/tune status` and `/tune datasets` answer in the ack, built once: building a
# select costs SQLAlchemy more than SQLite takes to run it (a status read went from about
# 220 to 100 microseconds, a datasets read from 360 to 100).
_JOBS_OF_OWNER = (
    select(TuningJob)
    .where(TuningJob.team_id == bindparam("team_id"), TuningJob.owner_user_id == bindparam("owner"))
    .order_by(col(TuningJob.created_at).desc(), col(TuningJob.id).desc())
    .limit(bindparam("limit"))
)
_DATASETS_WITH_JOB_NAMES = (
    select(Dataset, col(TuningJob.display_name))
    .outerjoin(TuningJob, col(TuningJob.dataset_id) == Dataset.id)
    .where(Dataset.team_id == bindparam("team_id"), Dataset.owner_user_id == bindparam("owner"))
    .order_by(col(Dataset.created_at).desc(), col(Dataset.id).desc(), col(TuningJob.id))
)

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def dataset_name_from(text: str) -> str:
    """A short name people can type after `/tune start`: `Sales Q3.csv` -> `sales-q3`."""
    stem = text.rsplit("/", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    name = _NAME_UNSAFE.sub("-", stem).strip("-._").lower()
    return (name or "dataset")[:60]


@dataclass(frozen=True)
class DatasetSummary:
    dataset: Dataset
    job_names: list[str]


class StorageUnavailable(Exception):
    """The database refused a write it cannot take now (disk full, read-only, I/O error);
    the transaction was rolled back, so nothing of it is stored. `str()` says why, briefly."""


_UNAVAILABLE = {
    "disk is full": "the disk is full",
    "no space left": "the disk is full",
    "readonly": "the database is read-only",
    "read-only": "the database is read-only",
    "disk i/o error": "the disk reported an I/O error",
    "unable to open database": "the database file cannot be opened",
}


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database refused, if `exc` is the database being unable to write at all
    (as opposed to a bug or a constraint); None otherwise."""
    if not isinstance(exc, OperationalError):
        return None
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return next((reason for marker, reason in _UNAVAILABLE.items() if marker in text), None)


@contextmanager
def writes_or_unavailable() -> Iterator[None]:
    """Turn a database that cannot write into StorageUnavailable (with a reason)."""
    try:
        yield
    except OperationalError as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        raise StorageUnavailable(reason) from exc


# Concurrent uploads of one file name race for the same free name; the loser looks again.
NAME_ATTEMPTS = 50


class DuplicateDataset(Exception):
    """The same file (by content hash) is already stored for this team."""

    def __init__(self, existing: Dataset) -> None:
        super().__init__(f"already stored as {existing.name}")
        self.existing = existing


class DuplicateDatasetName(Exception):
    """The team already has a dataset with this name."""


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, database_url: str) -> Store:
        store = cls(make_engine(database_url))
        store.create_schema()
        return store

    def create_schema(self) -> None:
        """Create or upgrade the schema in place (Alembic; see bot/storage/schema.py)."""
        schema.upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # ---- datasets -------------------------------------------------------------------------

    def add_dataset(
        self,
        *,
        team_id: str,
        owner_user_id: str,
        channel_id: str | None,
        name: str,
        file_name: str,
        format: str,
        sha256: str,
        examples: Sequence[TrainingPair],
        insight_json: str | None = None,
    ) -> Dataset:
        """Store a dataset and its examples atomically; a clashing name gets a suffix.

        Raises DuplicateDataset when the team already has a file with these bytes.
        """
        blob = encode_examples(examples)
        for attempt in range(NAME_ATTEMPTS):
            with self.session() as session:
                existing = session.exec(
                    select(Dataset).where(Dataset.team_id == team_id, Dataset.sha256 == sha256)
                ).first()
                if existing is not None:
                    raise DuplicateDataset(existing)
                taken = set(
                    session.exec(
                        select(Dataset.name).where(
                            Dataset.team_id == team_id, col(Dataset.name).startswith(name)
                        )
                    ).all()
                )
                dataset = Dataset(
                    team_id=team_id,
                    owner_user_id=owner_user_id,
                    channel_id=channel_id,
                    name=_first_free_name(name, taken),
                    file_name=file_name[:255],
                    format=format,
                    example_count=len(examples),
                    sha256=sha256,
                )
                session.add(dataset)
                try:
                    session.flush()
                    assert dataset.id is not None
                    session.add(DatasetContent(dataset_id=dataset.id, examples_gz=blob))
                    if insight_json is not None:
                        session.add(DatasetInsightRow(dataset_id=dataset.id, insight_json=insight_json))
                    session.commit()
                except IntegrityError as exc:
                    session.rollback()
                    clash = self.find_dataset_by_hash(team_id, sha256)
                    if clash is not None:
                        raise DuplicateDataset(clash) from exc
                    if attempt + 1 == NAME_ATTEMPTS:
                        raise
                    # Someone took the same free name in the meantime: look again.
                    continue
                return dataset
        raise AssertionError("unreachable")

    def find_dataset_by_hash(self, team_id: str, sha256: str) -> Dataset | None:
        with self.session() as session:
            return session.exec(
                select(Dataset).where(Dataset.team_id == team_id, Dataset.sha256 == sha256)
            ).first()

    def find_dataset(self, team_id: str, name_or_id: str) -> Dataset | None:
        with self.session() as session:
            query = select(Dataset).where(Dataset.team_id == team_id)
            by_name = session.exec(query.where(Dataset.name == name_or_id)).first()
            if by_name is not None or not name_or_id.lstrip("#").isdigit():
                return by_name
            return session.exec(query.where(Dataset.id == int(name_or_id.lstrip("#")))).first()

    def list_datasets(self, team_id: str, owner_user_id: str) -> list[DatasetSummary]:
        """The owner's datasets, newest first, each with the names of the jobs run on it."""
        with self.session() as session:
            rows = session.exec(_DATASETS_WITH_JOB_NAMES, params={"team_id": team_id, "owner": owner_user_id})
            summaries: dict[int | None, DatasetSummary] = {}
            for dataset, job_name in rows:
                summary = summaries.setdefault(dataset.id, DatasetSummary(dataset, []))
                if job_name is not None:
                    summary.job_names.append(job_name)
        return list(summaries.values())

    def dataset_names(self, team_id: str) -> list[str]:
        with self.session() as session:
            return list(
                session.exec(
                    select(Dataset.name).where(Dataset.team_id == team_id).order_by(Dataset.name)
                ).all()
            )

    def dataset_name(self, dataset_id: int | None) -> str | None:
        if dataset_id is None:
            return None
        with self.session() as session:
            dataset = session.get(Dataset, dataset_id)
            return dataset.name if dataset else None

    def delete_dataset(self, dataset_id: int) -> None:
        """Remove a dataset and its examples; jobs tuned on it keep their names and models."""
        with self.session() as session:
            session.execute(
                update(TuningJob).where(col(TuningJob.dataset_id) == dataset_id).values(dataset_id=None)
            )
            session.execute(  # a job's held-out examples are its own copy; only the link goes
                update(JobHoldout)
                .where(col(JobHoldout.source_dataset_id) == dataset_id)
                .values(source_dataset_id=None)
            )
            session.execute(delete(DatasetContent).where(col(DatasetContent.dataset_id) == dataset_id))
            session.execute(delete(DatasetInsightRow).where(col(DatasetInsightRow.dataset_id) == dataset_id))
            session.execute(delete(Dataset).where(col(Dataset.id) == dataset_id))
            session.commit()

    def rename_dataset(self, dataset_id: int, new_name: str) -> Dataset:
        """Raises DuplicateDatasetName when the team already has a dataset with that name."""
        with self.session() as session:
            dataset = session.get(Dataset, dataset_id)
            if dataset is None:
                raise LookupError(f"dataset {dataset_id} does not exist")
            dataset.name = new_name
            session.add(dataset)
            try:
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise DuplicateDatasetName(new_name) from exc
            return dataset

    def dataset_insight(self, dataset_id: int) -> str | None:
        """The insight JSON stored with a dataset (None for one uploaded before it was kept)."""
        with self.session() as session:
            row = session.get(DatasetInsightRow, dataset_id)
            return row.insight_json if row else None

    def save_dataset_insight(self, dataset_id: int, insight_json: str) -> None:
        with self.session() as session:
            session.merge(DatasetInsightRow(dataset_id=dataset_id, insight_json=insight_json))
            session.commit()

    def load_examples(self, dataset_id: int) -> list[TrainingPair]:
        with self.session() as session:
            content = session.get(DatasetContent, dataset_id)
            if content is None:
                raise LookupError(f"dataset {dataset_id} has no stored examples")
            return decode_examples(content.examples_gz)

    def count_datasets(self) -> int:
        with self.session() as session:
            return int(session.exec(select(func.count()).select_from(Dataset)).one())

    # ---- tuning jobs ----------------------------------------------------------------------

    def create_job(self, job: TuningJob, holdout: JobHoldout | None = None) -> TuningJob:
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

    def held_out_examples(self, job_id: int) -> list[TrainingPair]:
        """The examples job `job_id` held out of training (empty when it held none out)."""
        holdout = self.job_holdout(job_id)
        return decode_examples(holdout.examples_gz) if holdout is not None else []

    def jobs_with_holdout(self, job_ids: Iterable[int]) -> set[int]:
        """Which of `job_ids` held examples out (one query for a whole poll batch)."""
        wanted = list(job_ids)
        if not wanted:
            return set()
        with self.session() as session:
            query = select(JobHoldout.job_id).where(col(JobHoldout.job_id).in_(wanted))
            return set(session.exec(query).all())

    def job_holdout(self, job_id: int) -> JobHoldout | None:
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

    def get_job(self, job_id: int) -> TuningJob | None:
        with self.session() as session:
            return session.get(TuningJob, job_id)

    def update_job(self, job_id: int, **changes: Any) -> TuningJob:
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

    def job_for_model(self, model_name: str) -> TuningJob | None:
        """The newest job that made `model_name`."""
        with self.session() as session:
            return session.exec(
                select(TuningJob).where(TuningJob.model_name == model_name).order_by(col(TuningJob.id).desc())
            ).first()

    def save_evaluation(self, job_id: int, report_json: str) -> None:
        with self.session() as session:
            session.merge(JobEvaluation(job_id=job_id, report_json=report_json))
            session.commit()

    def evaluation(self, job_id: int) -> str | None:
        with self.session() as session:
            row = session.get(JobEvaluation, job_id)
            return row.report_json if row else None

    def delete_job(self, job_id: int) -> None:
        with self.session() as session:
            holdout = session.get(JobHoldout, job_id)
            if holdout is not None:
                session.delete(holdout)
                session.flush()
            job = session.get(TuningJob, job_id)
            if job is not None:
                session.delete(job)
                session.commit()

    def jobs_for_owner(self, team_id: str, owner_user_id: str, *, limit: int = 20) -> list[TuningJob]:
        """The owner's latest `limit` jobs, newest first."""
        with self.session() as session:
            params = {"team_id": team_id, "owner": owner_user_id, "limit": limit}
            return list(session.exec(_JOBS_OF_OWNER, params=params).all())

    def active_jobs(self) -> list[TuningJob]:
        with self.session() as session:
            return list(session.exec(select(TuningJob).where(col(TuningJob.state).in_(ACTIVE_STATES))).all())

    # ---- polling leases (bot/polling) -----------------------------------------------------

    def claim_due_jobs(
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
                    col(TuningJob.notice_state) != "starting",
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

    def update_leased_job(self, job_id: int, owner: str, **changes: Any) -> bool:
        """Write `changes` only if `owner` still holds the job's lease (a fenced update)."""
        with self.engine.begin() as connection:
            return _fenced_update(connection, job_id, owner, changes)

    def release_jobs(self, owner: str, releases: Sequence[tuple[int, dict[str, Any]]]) -> int:
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

    def unstarted_jobs(self, now: datetime) -> list[TuningJob]:
        """Jobs whose create call was sent (or about to be) by a process that no longer
        holds them (its lease expired: it died during `/tune start`)."""
        with self.session() as session:
            return list(
                session.exec(
                    select(TuningJob).where(
                        TuningJob.notice_state == "starting",
                        or_(col(TuningJob.lease_expires_at).is_(None), col(TuningJob.lease_expires_at) < now),
                    )
                ).all()
            )

    def record_started(
        self, job_id: int, *, model_name: str, operation_name: str, total_steps: int | None
    ) -> TuningJob | None:
        """Record what the service created for a starting job, and who owns the model, in
        one transaction. None when the job is not starting any more (whoever got there
        first, the `/tune start` that sent the create or a poller recovering it, wins)."""
        with self.session() as session:
            result = session.execute(
                update(TuningJob)
                .where(col(TuningJob.id) == job_id, col(TuningJob.notice_state) == "starting")
                .values(
                    model_name=model_name,
                    operation_name=operation_name,
                    total_steps=total_steps,
                    completed_steps=0,
                    notice_state="none",
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

    # ---- model ownership ------------------------------------------------------------------

    def record_model_owner(
        self, *, model_name: str, team_id: str, owner_user_id: str, job_id: int | None
    ) -> None:
        with self.session() as session:
            row = session.get(ModelOwnership, model_name)
            if row is None:
                row = ModelOwnership(
                    model_name=model_name, team_id=team_id, owner_user_id=owner_user_id, job_id=job_id
                )
            session.add(row)
            session.commit()

    def model_owner(self, model_name: str) -> ModelOwnership | None:
        with self.session() as session:
            return session.get(ModelOwnership, model_name)

    def model_owners(self, model_names: Iterable[str]) -> dict[str, str]:
        names = list(model_names)
        if not names:
            return {}
        with self.session() as session:
            rows = session.exec(select(ModelOwnership).where(col(ModelOwnership.model_name).in_(names))).all()
        return {row.model_name: row.owner_user_id for row in rows}

    def deleted_models(self, model_names: Iterable[str]) -> set[str]:
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

    def team_model_jobs(self, team_id: str) -> list[TuningJob]:
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

    def mark_model_deleted(self, model_name: str, deleted_by: str) -> list[TuningJob]:
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
                job.notice_state = "skipped"
                session.add(job)
            session.commit()
            return list(jobs)

    # ---- try threads ----------------------------------------------------------------------

    def add_try_thread(
        self, *, channel_id: str, thread_ts: str, model_name: str, user_id: str, base_model: str | None = None
    ) -> None:
        with self.session() as session:
            session.merge(
                TryThread(
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    model_name=model_name,
                    user_id=user_id,
                    base_model=base_model,
                )
            )
            session.commit()

    def compare_base_model(self, channel_id: str, thread_ts: str) -> str | None:
        """The base model of a `/tune compare` thread (None for a `/tune try` thread)."""
        with self.session() as session:
            row = session.get(TryThread, (channel_id, thread_ts))
            return row.base_model if row else None

    def try_thread_model(self, channel_id: str, thread_ts: str) -> str | None:
        with self.session() as session:
            row = session.get(TryThread, (channel_id, thread_ts))
            return row.model_name if row else None

    # ---- event de-duplication -------------------------------------------------------------

    def first_delivery(self, event_id: str) -> bool:
        """True the first time an Events API `event_id` is seen, False on Slack's retries."""
        with self.session() as session:
            session.add(SeenEvent(event_id=event_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
            return True

    def forget_events_older_than(self, age: timedelta) -> int:
        """Drop de-duplication records Slack can no longer retry (it retries within minutes)."""
        with self.engine.begin() as connection:
            result = connection.execute(delete(SeenEvent).where(col(SeenEvent.seen_at) < utcnow() - age))
            return int(result.rowcount or 0)


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


def _first_free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    suffix = 2
    while f"{name}-{suffix}" in taken:
        suffix += 1
    return f"{name}-{suffix}"
