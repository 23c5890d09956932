"""An uploaded file -> a stored dataset, a duplicate of one, or a refusal."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import IO, BinaryIO, Literal, cast

from bot.datasets import Limits, ParsedDataset, parse_dataset
from bot.datasets.limits import file_level_problems, skipped_rows
from bot.datasets.pool import ValidationPool
from bot.domain.errors import StorageUnavailable
from bot.services.datasets import DatasetName, new_dataset_name
from bot.storage.engine import writes_or_unavailable
from bot.storage.models import Dataset
from bot.storage.repositories.datasets import DuplicateDataset
from bot.storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadOutcome:
    """What became of an upload.

    "stored": `dataset` is new (`wanted` is the name typed, `asked` the names it asked for;
    the stored names differ from `asked` when they were taken). "duplicate": the
    same content is already `dataset`. "rejected": `parsed` says what is wrong, or
    `storage_error` why the database would not take it (nothing was stored).
    """

    kind: Literal["stored", "duplicate", "rejected"]
    file_name: str
    dataset: Dataset | None = None
    parsed: ParsedDataset | None = None
    wanted: str | None = None
    asked: DatasetName | None = None
    storage_error: str | None = None
    # `gs://…` when the file was read in place from Cloud Storage (and not copied).
    source_uri: str | None = None
    # "rejected" although bad rows were to be skipped: the good ones are fewer than this minimum.
    too_few_good: int | None = None


async def ingest_upload(
    store: Store,
    *,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    file_name: str,
    content: bytes | IO[bytes],
    dataset_name: str | None = None,
    input_column: str | None = None,
    output_column: str | None = None,
    limits: Limits | None = None,
    validation: ValidationPool | None = None,
    skip_bad_rows: bool = False,
) -> UploadOutcome:
    """Validate an uploaded file and store it, or say exactly what is wrong.

    Parsing runs in `validation`'s worker processes (off the event loop and its GIL), or
    in a worker thread when no pool is given.

    A rejected file stores nothing; the examples and the dataset row are written in one
    transaction, so a crash cannot leave half a dataset behind.

    With `skip_bad_rows`, a file whose problems are all a row's own stores its good examples
    (`Dataset.skipped_count` says how many rows were left out); a problem with the file
    itself still refuses it, as do fewer good examples than `limits.min_examples`.
    """
    limits = limits or Limits()
    input_column, output_column = input_column or None, output_column or None
    if validation is not None:
        parsed = await validation.parse(
            content, file_name, limits=limits, input_column=input_column, output_column=output_column
        )
    else:
        source = cast("bytes | BinaryIO", content)  # what parse_dataset reads: bytes or a binary file
        read = partial(
            parse_dataset,
            source,
            file_name,
            limits=limits,
            input_column=input_column,
            output_column=output_column,
        )
        parsed = await asyncio.to_thread(read)
    skipped = 0
    if not parsed.ok:
        if not skip_bad_rows or not parsed.example_count or file_level_problems(parsed):
            return UploadOutcome("rejected", file_name, parsed=parsed)
        if parsed.example_count < limits.min_examples:
            return UploadOutcome("rejected", file_name, parsed=parsed, too_few_good=limits.min_examples)
        skipped = skipped_rows(parsed)
    return await store_parsed(
        store,
        parsed,
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        file_name=file_name,
        dataset_name=dataset_name,
        skipped=skipped,
    )


async def store_parsed(
    store: Store,
    parsed: ParsedDataset,
    *,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    file_name: str,
    dataset_name: str | None,
    skipped: int = 0,
    source_uri: str | None = None,
    source_generation: str | None = None,
) -> UploadOutcome:
    """Store a validated file as a dataset (or find that its bytes are one already): its
    examples, or for a file read in place (`source_uri`) only its counts, shape and insight.
    The examples and the dataset row are written in one transaction."""
    existing = await store.run(store.datasets.find_by_hash, team_id, parsed.sha256)
    if existing is not None:
        return UploadOutcome("duplicate", file_name, existing, parsed, source_uri=source_uri)
    asked = new_dataset_name(dataset_name, file_name)

    def add() -> Dataset:
        # In the worker thread, pairs included: 100,000 of them take the loop 50 ms to build.
        return store.datasets.add(
            team_id=team_id,
            owner_user_id=user_id,
            channel_id=channel_id,
            name=asked.slug,
            display_name=asked.display,
            file_name=file_name,
            format=parsed.format,
            sha256=parsed.sha256,
            examples=parsed.examples if source_uri is None else [],
            insight_json=parsed.insight.to_json() if parsed.insight else None,
            shape=parsed.shape,
            skipped_count=skipped,
            source_uri=source_uri,
            source_generation=source_generation,
            example_count=parsed.example_count if source_uri is not None else None,
        )

    try:
        with writes_or_unavailable():
            dataset = await store.run(add)
    except DuplicateDataset as dup:
        return UploadOutcome("duplicate", file_name, dup.existing, parsed, source_uri=source_uri)
    except StorageUnavailable as exc:
        log.error("could not store an upload: %s (nothing was written)", exc)
        return UploadOutcome(
            "rejected", file_name, parsed=parsed, storage_error=str(exc), source_uri=source_uri
        )
    return UploadOutcome(
        "stored",
        file_name,
        dataset,
        parsed,
        wanted=dataset_name or None,
        asked=asked,
        source_uri=source_uri,
    )
