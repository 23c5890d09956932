"""Datasets: the uploaded examples, their names and what is in them.

Each public method is one transaction."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.domain.types import ExampleShape, TrainingExample
from bot.storage.engine import Repository
from bot.storage.models import (
    Dataset,
    DatasetContent,
    DatasetInsightRow,
    JobHoldout,
    TuningJob,
)

ENCODE_CHUNK = 2_000


def _row(example: TrainingExample) -> list[object]:
    """`[input, output]` for a pair (as every release has stored them); a conversation or an
    example with a system instruction adds its earlier turns and the instruction:
    `[input, output, [turn, …], system]`."""
    if not example.history and example.system is None:
        return [example.text_input, example.output]
    return [example.text_input, example.output, list(example.history), example.system]


def encode_examples(examples: Iterable[TrainingExample]) -> bytes:
    """gzip'd JSON `[[input, output], ...]` (see `_row`), encoded a chunk at a time: one
    `json.dumps` of 100,000 examples holds the GIL (the event loop, when called from a worker
    thread) for tens of milliseconds in a single C call."""
    rows = [_row(e) for e in examples]
    chunks = (
        json.dumps(rows[i : i + ENCODE_CHUNK], ensure_ascii=False)[1:-1]
        for i in range(0, len(rows), ENCODE_CHUNK)
    )
    payload = "[" + ", ".join(chunks) + "]"
    return gzip.compress(payload.encode("utf-8"), compresslevel=5)


def decode_examples(blob: bytes) -> list[TrainingExample]:
    return [
        TrainingExample(row[0], row[1])
        if len(row) == 2
        else TrainingExample(row[0], row[1], tuple(row[2]), row[3])
        for row in json.loads(gzip.decompress(blob))
    ]


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


class DuplicateDataset(Exception):
    """The same file (by content hash) is already stored for this team."""

    def __init__(self, existing: Dataset) -> None:
        super().__init__(f"already stored as {existing.name}")
        self.existing = existing


class DuplicateDatasetName(Exception):
    """The team already has a dataset with this name."""


# Concurrent uploads of one file name race for the same free name; the loser looks again.
NAME_ATTEMPTS = 50


def _first_free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    suffix = 2
    while f"{name}-{suffix}" in taken:
        suffix += 1
    return f"{name}-{suffix}"


def _first_free_display_name(display_name: str, taken: Iterable[str]) -> str:
    """`display_name`, or with `-2`, `-3`… when the team has it already (case-insensitively)."""
    folded = {name.casefold() for name in taken}
    if display_name.casefold() not in folded:
        return display_name
    suffix = 2
    while f"{display_name}-{suffix}".casefold() in folded:
        suffix += 1
    return f"{display_name}-{suffix}"


NUMBERED_SLUG = "dataset-{id}"  # the slug of a name with no ASCII letters to spell it with


class DatasetRepository(Repository):
    def add(
        self,
        *,
        team_id: str,
        owner_user_id: str,
        channel_id: str | None,
        name: str | None,
        file_name: str,
        format: str,
        sha256: str,
        examples: Sequence[TrainingExample],
        insight_json: str | None = None,
        display_name: str | None = None,
        shape: ExampleShape | None = None,
        skipped_count: int = 0,
        source_uri: str | None = None,
        source_generation: str | None = None,
        example_count: int | None = None,
    ) -> Dataset:
        """Store a dataset and its examples atomically; a clashing slug (`name`) or display
        name gets a suffix. A `name` of None is `dataset-<id>` (a name without ASCII letters);
        `display_name` defaults to the slug.

        `shape` says what the examples hold beyond pairs (bot.datasets.core.shape_of). A
        dataset read in place from Cloud Storage has a `source_uri`, no `examples` (nothing is
        copied) and its `example_count`.

        Raises DuplicateDataset when the team already has a file with these bytes.
        """
        blob = encode_examples(examples) if source_uri is None else None
        shape = shape or ExampleShape()
        for attempt in range(NAME_ATTEMPTS):
            with self.session() as session:
                existing = session.exec(
                    select(Dataset).where(Dataset.team_id == team_id, Dataset.sha256 == sha256)
                ).first()
                if existing is not None:
                    raise DuplicateDataset(existing)
                displays = session.exec(select(Dataset.display_name).where(Dataset.team_id == team_id)).all()
                # a placeholder until the id is known, unique as the hash is per team
                slug = self._free_name(session, team_id, name) if name else f"~{sha256[:64]}"[:80]
                # A display name spelled as its slug takes the slug's suffix too, so that racing
                # uploads of `same.csv` are each *same-N*, typed `same-N` (never two suffixes).
                follows_slug = bool(name) and (display_name is None or display_name == name)
                dataset = Dataset(
                    team_id=team_id,
                    owner_user_id=owner_user_id,
                    channel_id=channel_id,
                    name=slug,
                    display_name=(
                        slug
                        if follows_slug
                        else _first_free_display_name(display_name or name or "dataset", displays)
                    ),
                    file_name=file_name[:255],
                    format=format,
                    example_count=len(examples) if example_count is None else example_count,
                    sha256=sha256,
                    multi_turn_count=shape.multi_turn,
                    system_count=shape.with_system,
                    system_instruction=shape.system_instruction,
                    max_example_tokens=shape.max_tokens,
                    skipped_count=skipped_count,
                    source_uri=source_uri,
                    source_generation=source_generation,
                )
                session.add(dataset)
                try:
                    session.flush()
                    assert dataset.id is not None
                    if not name:
                        numbered = NUMBERED_SLUG.format(id=dataset.id)
                        dataset.name = self._free_name(session, team_id, numbered)
                        session.add(dataset)
                        session.flush()
                    if blob is not None:
                        session.add(DatasetContent(dataset_id=dataset.id, examples_gz=blob))
                    if insight_json is not None:
                        session.add(DatasetInsightRow(dataset_id=dataset.id, insight_json=insight_json))
                    session.commit()
                except IntegrityError as exc:
                    session.rollback()
                    clash = self.find_by_hash(team_id, sha256)
                    if clash is not None:
                        raise DuplicateDataset(clash) from exc
                    if attempt + 1 == NAME_ATTEMPTS:
                        raise
                    # Someone took the same free name in the meantime: look again.
                    continue
                return dataset
        raise AssertionError("unreachable")

    @staticmethod
    def _free_name(session: Session, team_id: str, name: str) -> str:
        taken = set(
            session.exec(
                select(Dataset.name).where(Dataset.team_id == team_id, col(Dataset.name).startswith(name))
            ).all()
        )
        return _first_free_name(name, taken)

    def find_by_hash(self, team_id: str, sha256: str) -> Dataset | None:
        with self.session() as session:
            return session.exec(
                select(Dataset).where(Dataset.team_id == team_id, Dataset.sha256 == sha256)
            ).first()

    def by_name(self, team_id: str, name: str) -> Dataset | None:
        """The team's dataset called `name` (what a typed reference means: services.datasets)."""
        with self.session() as session:
            return session.exec(
                select(Dataset).where(Dataset.team_id == team_id, Dataset.name == name)
            ).first()

    def by_display_name(self, team_id: str, display_name: str) -> Dataset | None:
        """The team's dataset shown as `display_name`, compared case-insensitively in any script
        (the oldest when, after a race, two share it)."""
        wanted = display_name.casefold()
        with self.session() as session:
            rows = session.exec(
                select(Dataset.id, Dataset.display_name)
                .where(Dataset.team_id == team_id)
                .order_by(col(Dataset.id))
            ).all()
            for dataset_id, shown in rows:
                if shown.casefold() == wanted:
                    return session.get(Dataset, dataset_id)
        return None

    def by_id(self, team_id: str, dataset_id: int) -> Dataset | None:
        """The team's dataset with this id (None for another team's)."""
        with self.session() as session:
            return session.exec(
                select(Dataset).where(Dataset.team_id == team_id, Dataset.id == dataset_id)
            ).first()

    def list_for_owner(self, team_id: str, owner_user_id: str) -> list[DatasetSummary]:
        """The owner's datasets, newest first, each with the names of the jobs run on it."""
        with self.session() as session:
            rows = session.exec(_DATASETS_WITH_JOB_NAMES, params={"team_id": team_id, "owner": owner_user_id})
            summaries: dict[int | None, DatasetSummary] = {}
            for dataset, job_name in rows:
                summary = summaries.setdefault(dataset.id, DatasetSummary(dataset, []))
                if job_name is not None:
                    summary.job_names.append(job_name)
        return list(summaries.values())

    def job_names(self, dataset_id: int) -> list[str]:
        """The names of the jobs tuned on a dataset, oldest first."""
        with self.session() as session:
            return list(
                session.exec(
                    select(TuningJob.display_name)
                    .where(col(TuningJob.dataset_id) == dataset_id)
                    .order_by(col(TuningJob.id))
                ).all()
            )

    def names(self, team_id: str) -> list[str]:
        with self.session() as session:
            return list(
                session.exec(
                    select(Dataset.name).where(Dataset.team_id == team_id).order_by(Dataset.name)
                ).all()
            )

    def display_names(self, team_id: str) -> dict[str, str]:
        """The team's datasets, slug -> display name, in the order of their slugs."""
        with self.session() as session:
            rows = session.exec(
                select(Dataset.name, Dataset.display_name)
                .where(Dataset.team_id == team_id)
                .order_by(Dataset.name)
            ).all()
            return dict(rows)

    def name_of(self, dataset_id: int | None) -> str | None:
        """The display name of a dataset (None when there is none)."""
        if dataset_id is None:
            return None
        with self.session() as session:
            dataset = session.get(Dataset, dataset_id)
            return dataset.display_name if dataset else None

    def delete(self, dataset_id: int) -> None:
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

    def rename(self, dataset_id: int, new_name: str | None, display_name: str | None = None) -> Dataset:
        """A new slug (None: `dataset-<id>`) and display name (default: the slug).

        Raises DuplicateDatasetName when another of the team's datasets has that slug or
        (case-insensitively) that display name."""
        with self.session() as session:
            dataset = session.get(Dataset, dataset_id)
            if dataset is None:
                raise LookupError(f"dataset {dataset_id} does not exist")
            slug = new_name or NUMBERED_SLUG.format(id=dataset_id)
            shown = display_name or slug
            others = session.exec(
                select(Dataset.display_name).where(
                    Dataset.team_id == dataset.team_id, Dataset.id != dataset_id
                )
            ).all()
            if shown.casefold() in {other.casefold() for other in others}:
                raise DuplicateDatasetName(shown)
            dataset.name, dataset.display_name = slug, shown
            session.add(dataset)
            try:
                session.commit()
            except IntegrityError as exc:
                session.rollback()
                raise DuplicateDatasetName(slug) from exc
            return dataset

    def insight(self, dataset_id: int) -> str | None:
        """The insight JSON stored with a dataset (None for one uploaded before it was kept)."""
        with self.session() as session:
            row = session.get(DatasetInsightRow, dataset_id)
            return row.insight_json if row else None

    def save_insight(self, dataset_id: int, insight_json: str) -> None:
        with self.session() as session:
            session.merge(DatasetInsightRow(dataset_id=dataset_id, insight_json=insight_json))
            session.commit()

    def examples(self, dataset_id: int) -> list[TrainingExample]:
        with self.session() as session:
            content = session.get(DatasetContent, dataset_id)
            if content is None:
                raise LookupError(f"dataset {dataset_id} has no stored examples")
            return decode_examples(content.examples_gz)

    def count(self) -> int:
        with self.session() as session:
            return int(session.exec(select(func.count()).select_from(Dataset)).one())
