"""Datasets read in place from Cloud Storage (`/tune upload gs://bucket/file.jsonl`).

The object is streamed through the validator once (in a worker thread, one chunk in memory
at a time) and never copied: tunebot stores its name, counts, shape and insight, not its
examples, and `/tune start` on Vertex AI hands its URI to Vertex as the training (or
validation) dataset. Only Vertex AI reads Cloud Storage; the Gemini API takes examples inline.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import IO, TYPE_CHECKING, cast

from bot.backends.backend import TuningBackend
from bot.backends.vertex_backend import UPLOAD_PREFIX, VertexBackend
from bot.datasets import Limits, ParsedDataset, parse_dataset
from bot.datasets.holdout import MAX_VALIDATION_EXAMPLES, Holdout
from bot.domain.requests import ValidationChoice
from bot.domain.types import TrainingExample
from bot.google.errors import GoogleConnectionError
from bot.services.datasets import lookup_dataset
from bot.services.errors import (
    CloudDatasetNeedsVertex,
    CloudDatasetNotSplit,
    CloudObjectChanged,
    CloudObjectIsTunebots,
    CloudObjectNotVertexRecords,
    CloudObjectTooLarge,
    CloudObjectUnreadable,
    CloudStorageNeedsVertex,
    HoldoutFailed,
)
from bot.services.uploads import UploadOutcome, store_parsed
from bot.storage.models import Dataset, JobHoldout, TuningJob
from bot.storage.repositories.datasets import encode_examples
from bot.storage.store import Store
from bot.vertex.client import VertexClient
from bot.vertex.errors import VertexAPIError
from bot.vertex.objects import DOWNLOAD_CHUNK, CloudObject, FirstLines, ObjectInfo, StreamReader

if TYPE_CHECKING:
    from bot.services.jobs import ValidationSet

log = logging.getLogger(__name__)


def cloud_client(backend: TuningBackend) -> VertexClient | None:
    """The Cloud Storage client of a backend that reads datasets from a bucket (Vertex AI)."""
    return backend.client if isinstance(backend, VertexBackend) else None


def _unreadable(target: CloudObject, exc: Exception) -> CloudObjectUnreadable:
    if isinstance(exc, VertexAPIError):
        if exc.code == 404:
            no_bucket = "bucket" in exc.message.lower() and "object" not in exc.message.lower()
            return CloudObjectUnreadable(target.uri, "no_bucket" if no_bucket else "no_object", exc.message)
        if exc.code in (401, 403):
            return CloudObjectUnreadable(target.uri, "forbidden", exc.message)
        return CloudObjectUnreadable(target.uri, "failed", f"{exc.code} {exc.status}: {exc.message}")
    return CloudObjectUnreadable(target.uri, "failed", str(exc))


async def object_info(client: VertexClient, target: CloudObject) -> ObjectInfo:
    try:
        return await client.object_info(target)
    except (VertexAPIError, GoogleConnectionError) as exc:
        raise _unreadable(target, exc) from exc


def _parse_stream(reader: StreamReader, file_name: str, limits: Limits) -> ParsedDataset:
    try:
        return parse_dataset(cast("IO[bytes]", reader), file_name, limits=limits, keep_examples=False)
    finally:
        reader.close()


def _first_record_kind(head: bytes) -> tuple[str, tuple[str, ...]] | None:
    """None when the first line is a Vertex supervised-tuning record (`contents`) or is not
    all in `head` (not decided here), else what it is instead and its keys."""
    lines = head.split(b"\n")
    for raw in lines[:-1]:
        line = raw.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            return "a line that is not JSON", ()
        if not isinstance(record, dict):
            return "a JSON value that is not an object", ()
        keys = tuple(str(key) for key in record)[:4]
        if "contents" in {key.lower() for key in record}:
            return None
        if "messages" in {key.lower() for key in record}:
            return "OpenAI chat records", keys
        return "records", keys
    return None


@dataclass(frozen=True)
class CloudRead:
    """How an object was read: the reader's counters (for logs and tests)."""

    chunks: int
    bytes_read: int
    largest_chunk: int


async def validate_object(
    client: VertexClient,
    target: CloudObject,
    *,
    limits: Limits,
    chunk_size: int = DOWNLOAD_CHUNK,
) -> tuple[ParsedDataset, ObjectInfo, CloudRead, bytes]:
    """Stream the object through the validator (keeping no examples): the result, the
    object's metadata, how it was read, and its first chunk (to tell what its records are).
    An object larger than `limits.max_file_bytes` is refused from its metadata, unread."""
    info = await object_info(client, target)
    if info.size > limits.max_file_bytes:
        raise CloudObjectTooLarge(target.uri, info.size, limits.max_file_bytes)
    chunks = client.stream_object(target, generation=info.generation or None, chunk_size=chunk_size)
    reader = StreamReader(chunks, asyncio.get_running_loop())
    try:
        parsed = await asyncio.to_thread(_parse_stream, reader, target.file_name, limits)
    except (VertexAPIError, GoogleConnectionError) as exc:
        raise _unreadable(target, exc) from exc
    return parsed, info, CloudRead(reader.chunks, reader.bytes_read, reader.largest_chunk), reader.head


async def ingest_cloud_object(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    target: CloudObject,
    dataset_name: str | None = None,
    limits: Limits | None = None,
    chunk_size: int = DOWNLOAD_CHUNK,
) -> UploadOutcome:
    """Validate `target` where it is and store it as a dataset that points at it (no
    examples, no content row), or say why not: the same outcomes as a Slack upload.

    The content hash is of the streamed bytes, so validating the same object (or the same
    bytes uploaded through Slack) again is a duplicate."""
    client = cloud_client(backend)
    if client is None or not isinstance(backend, VertexBackend):
        raise CloudStorageNeedsVertex(backend.name)
    if target.bucket == backend.bucket and target.name.startswith(UPLOAD_PREFIX):
        raise CloudObjectIsTunebots(target.uri, f"gs://{backend.bucket}/{UPLOAD_PREFIX}")
    limits = limits or Limits()
    parsed, info, read, head = await validate_object(client, target, limits=limits, chunk_size=chunk_size)
    log.info(
        "read %s in place: %d bytes in %d chunks (largest %d)",
        target.uri,
        read.bytes_read,
        read.chunks,
        read.largest_chunk,
    )
    file_name = target.file_name
    if not parsed.ok:
        return UploadOutcome("rejected", file_name, parsed=parsed, source_uri=target.uri)
    if parsed.format in ("csv", "tsv", "json"):
        raise CloudObjectNotVertexRecords(target.uri, "a JSON document" if parsed.format == "json" else "CSV")
    found = _first_record_kind(head)
    if found is not None:
        raise CloudObjectNotVertexRecords(target.uri, *found)
    return await store_parsed(
        store,
        parsed,
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        file_name=file_name,
        dataset_name=dataset_name,
        source_uri=target.uri,
        source_generation=info.generation or None,
    )


# ---- `/tune start` with a dataset read in place ---------------------------------------------


def check_cloud_start(
    backend: TuningBackend,
    choice: ValidationChoice | None,
    dataset: Dataset,
    validation: Dataset | None,
) -> None:
    """What a start cannot do with a dataset read in place (no API call): train anywhere but
    on Vertex AI, split it (tunebot holds no copy), take more validation examples than
    Vertex does."""
    in_place = [d for d in (dataset, validation) if d is not None and d.source_uri]
    if not in_place:
        return
    if cloud_client(backend) is None:
        raise CloudDatasetNeedsVertex(in_place[0].display_name, backend.name)
    if dataset.source_uri and choice is not None and choice.percent is not None:
        raise CloudDatasetNotSplit(dataset.display_name)
    if (
        validation is not None
        and validation.source_uri
        and validation.example_count > MAX_VALIDATION_EXAMPLES
    ):
        raise HoldoutFailed(
            f"the validation dataset `{validation.name}` has {validation.example_count:,} examples; "
            f"a validation set may have at most {MAX_VALIDATION_EXAMPLES:,}."
        )


@dataclass(frozen=True)
class CloudSources:
    """Where Vertex reads a start's examples from when a dataset is read in place: the URIs
    (None: tunebot uploads its stored examples as usual) and the validation dataset."""

    training_uri: str | None
    validation_uri: str | None
    validation: Dataset | None


def cloud_sources(
    store: Store, team_id: str, choice: ValidationChoice | None, dataset: Dataset
) -> CloudSources | None:
    """None when neither the training nor the validation dataset is read in place."""
    validation = (
        lookup_dataset(store, team_id, choice.dataset) if choice is not None and choice.dataset else None
    )
    validation_uri = validation.source_uri if validation is not None else None
    if not dataset.source_uri and not validation_uri:
        return None
    return CloudSources(dataset.source_uri, validation_uri, validation)


async def check_unchanged(backend: TuningBackend, cloud: CloudSources, dataset: Dataset) -> None:
    """Refuse a start whose Cloud Storage file was overwritten (or removed) after it was
    validated: Vertex would train on bytes nobody checked. Datasets stored before tunebot
    kept the generation are not checked."""
    client = cloud_client(backend)
    if client is None:
        return
    for checked in (dataset, cloud.validation):
        if checked is None or not checked.source_uri or not checked.source_generation:
            continue
        target = CloudObject.from_uri(checked.source_uri)
        info = await object_info(client, target)
        if info.generation and info.generation != checked.source_generation:
            raise CloudObjectChanged(checked.display_name, checked.source_uri)


def _read_first(reader: StreamReader, file_name: str, count: int, limits: Limits) -> list[TrainingExample]:
    try:
        parsed = parse_dataset(cast("IO[bytes]", FirstLines(reader, count)), file_name, limits=limits)
    finally:
        reader.close()
    return parsed.examples[:count]


async def first_examples(
    backend: TuningBackend, uri: str, count: int, *, limits: Limits | None = None
) -> list[TrainingExample]:
    """The first `count` examples of a JSON Lines object (what the held-out evaluation of a
    job validated on it scores), read without reading the rest. Empty when they cannot be
    read (logged): the evaluation is then skipped."""
    client = cloud_client(backend)
    if client is None or count <= 0:
        return []
    target = CloudObject.from_uri(uri)
    reader = StreamReader(client.stream_object(target), asyncio.get_running_loop())
    read = partial(_read_first, reader, target.file_name, count, limits or Limits())
    try:
        examples = await asyncio.to_thread(read)
    except (VertexAPIError, GoogleConnectionError) as exc:
        log.warning("could not read the first examples of %s for the evaluation: %s", uri, exc)
        return []
    if not examples:
        log.warning("%s: no examples tunebot can read in its first lines; the evaluation is skipped", uri)
    return examples


async def cloud_holdout(
    store: Store,
    backend: TuningBackend,
    cloud: CloudSources,
    examples: list[TrainingExample],
    eval_examples: int,
) -> tuple[Holdout, JobHoldout | None]:
    """The hold-out of a start that reads a dataset in place, and its job_holdout row.

    A validation dataset read in place goes to Vertex as its URI; its first `eval_examples`
    examples are kept for the held-out evaluation (the row counts the whole set). A stored
    validation set beside a training set read in place is uploaded as usual, unchecked for
    overlap (tunebot holds no copy of the training set to compare with)."""
    validation = cloud.validation
    if validation is None or validation.id is None:
        return Holdout(training=examples, validation=[]), None
    if cloud.validation_uri:
        sample = await first_examples(backend, cloud.validation_uri, eval_examples)
        row = JobHoldout(
            job_id=0,  # set by Store.create_job
            source="dataset",
            source_dataset_id=validation.id,
            example_count=validation.example_count,
            sent=True,
            uri=cloud.validation_uri,
            examples_gz=encode_examples(sample),
        )
        return Holdout(training=examples, validation=sample), row
    held = await store.run(store.datasets.examples, validation.id)
    if len(held) > MAX_VALIDATION_EXAMPLES:
        raise HoldoutFailed(
            f"the validation dataset `{validation.name}` has {len(held):,} examples; "
            f"a validation set may have at most {MAX_VALIDATION_EXAMPLES:,}."
        )
    row = JobHoldout(
        job_id=0,
        source="dataset",
        source_dataset_id=validation.id,
        example_count=len(held),
        sent=backend.supports_validation,
        examples_gz=encode_examples(held),
    )
    return Holdout(training=examples, validation=held), row


def in_place_validation(
    store: Store, job: TuningJob, holdout: JobHoldout, held: ValidationSet
) -> ValidationSet:
    """`held`, saying whether its dataset is read in place and how many of its examples the
    held-out evaluation will score (0: it is skipped, as they could not be read)."""
    if holdout.source_dataset_id is None:
        return held
    dataset = store.datasets.by_id(job.team_id, holdout.source_dataset_id)
    if dataset is None or not dataset.source_uri:
        return held
    evaluated = len(store.evaluations.held_out_examples(job.id)) if job.id is not None else 0
    return replace(held, source_uri=dataset.source_uri, evaluated=evaluated)
