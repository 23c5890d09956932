"""What tunebot does, independent of how people ask for it.

The Slack listeners, the offline demo and the tests call these functions; they talk
to the database (`Store`) and to whichever tuning service is configured
(`TuningBackend`), and raise `UserError` with a message fit to show the user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Literal

from bot.backends.backend import TuningBackend
from bot.datasets import Limits, ParsedDataset, format_problems, parse_dataset
from bot.datasets.holdout import Holdout, HoldoutError, separate_set, split_share
from bot.datasets.insight import DatasetInsight, InsightBuilder
from bot.datasets.pool import ValidationPool
from bot.domain.errors import BackendError, StorageUnavailable, UserError
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.types import JobState, ModelState, ModelSummary, TrainingPair, TuningRequest
from bot.render.insight import insight_lines, training_estimate
from bot.slack.commands import StartArgs, ValidationChoice
from bot.storage.engine import writes_or_unavailable
from bot.storage.models import Dataset, JobHoldout, ModelOwnership, TuningJob, utcnow
from bot.storage.repositories.datasets import (
    DuplicateDataset,
    DuplicateDatasetName,
    dataset_name_from,
    encode_examples,
)
from bot.storage.store import Store

log = logging.getLogger(__name__)

STARTING_HOLDER = "tune-start"  # the lease owner of a job whose create is being sent


# ---- uploads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadOutcome:
    kind: Literal["stored", "duplicate", "rejected"]
    message: str
    dataset: Dataset | None = None
    parsed: ParsedDataset | None = None


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
) -> UploadOutcome:
    """Validate an uploaded file and store it, or explain exactly what is wrong.

    Parsing runs in `validation`'s worker processes (off the event loop and its GIL), or
    in a worker thread when no pool is given.

    A rejected file stores nothing; the examples and the dataset row are written in one
    transaction, so a crash cannot leave half a dataset behind.
    """
    limits = limits or Limits()
    options = {"input_column": input_column or None, "output_column": output_column or None}
    if validation is not None:
        parsed = await validation.parse(content, file_name, limits=limits, **options)
    else:
        parsed = await asyncio.to_thread(parse_dataset, content, file_name, limits=limits, **options)
    if not parsed.ok:
        return UploadOutcome("rejected", format_problems(parsed), parsed=parsed)
    existing = await asyncio.to_thread(store.datasets.find_by_hash, team_id, parsed.sha256)
    if existing is not None:
        return UploadOutcome("duplicate", duplicate_message(file_name, existing), existing, parsed)
    name = dataset_name_from(dataset_name or file_name)

    def add() -> Dataset:
        # In the worker thread, pairs included: 100,000 of them take the loop 50 ms to build.
        return store.datasets.add(
            team_id=team_id,
            owner_user_id=user_id,
            channel_id=channel_id,
            name=name,
            file_name=file_name,
            format=parsed.format,
            sha256=parsed.sha256,
            examples=[TrainingPair(e.text_input, e.output) for e in parsed.examples],
            insight_json=parsed.insight.to_json() if parsed.insight else None,
        )

    try:
        with writes_or_unavailable():
            dataset = await asyncio.to_thread(add)
    except DuplicateDataset as dup:
        return UploadOutcome("duplicate", duplicate_message(file_name, dup.existing), dup.existing, parsed)
    except StorageUnavailable as exc:
        log.error("could not store an upload: %s (nothing was written)", exc)
        return UploadOutcome("rejected", not_saved_message(f"`{esc(file_name)}`", exc), parsed=parsed)
    return UploadOutcome(
        "stored", stored_message(dataset, parsed, wanted=dataset_name or None, cleaned=name), dataset, parsed
    )


def not_saved_message(what: str, exc: StorageUnavailable) -> str:
    return (
        f":x: tunebot could not save {what}: {exc}. Nothing was stored; try again later "
        "(tell whoever runs tunebot if it keeps happening)."
    )


def duplicate_message(file_name: str, existing: Dataset) -> str:
    return (
        f":information_source: `{esc(file_name)}` is already stored as dataset *{esc(existing.name)}* "
        f"({existing.example_count:,} examples, uploaded by <@{existing.owner_user_id}>). "
        f"Start tuning with `/tune start {esc(existing.name)}`."
    )


def name_note(stored: str, wanted: str | None, cleaned: str) -> str:
    """Why a dataset is not stored under the name asked for (empty when it is)."""
    if stored != cleaned:
        return f" (stored as `{esc(stored)}`: `{esc(cleaned)}` exists)"
    if wanted is not None and wanted != cleaned:
        return f" (stored as `{esc(stored)}`: names use lowercase letters, digits, `-`, `_` and `.`)"
    return ""


def stored_message(
    dataset: Dataset, parsed: ParsedDataset, *, wanted: str | None = None, cleaned: str | None = None
) -> str:
    note = name_note(dataset.name, wanted, cleaned or dataset.name)
    columns = ""
    if parsed.input_column and parsed.output_column:
        columns = f" (input `{esc(parsed.input_column)}`, output `{esc(parsed.output_column)}`)"
    warnings = "".join(f"\n:warning: {esc(w)}" for w in parsed.warnings[:5])
    insight = ""
    if parsed.insight is not None:
        insight = "\n" + "\n".join(insight_lines(parsed.insight))
    return (
        f":white_check_mark: Stored dataset *{esc(dataset.name)}*{note}: {dataset.example_count:,} examples "
        f"from `{esc(dataset.file_name)}`{columns}.\n"
        f"Start tuning with `/tune start {esc(dataset.name)}`.{warnings}{insight}"
    )


def dataset_insight(store: Store, dataset: Dataset) -> DatasetInsight:
    """What is in a stored dataset: as stored at upload, or (for a dataset uploaded before
    tunebot kept it) gathered once from its stored examples and kept from then on."""
    assert dataset.id is not None
    insight = DatasetInsight.from_json(store.datasets.insight(dataset.id))
    if insight is not None:
        return insight
    limits = Limits()
    builder = InsightBuilder(limits.max_input_chars, limits.max_output_chars)
    for index, pair in enumerate(store.datasets.examples(dataset.id), start=1):
        builder.observe(f"example {index}", pair.text_input, pair.output)
    insight = builder.finish()
    store.datasets.save_insight(dataset.id, insight.to_json())
    return insight


def dataset_detail_text(dataset: Dataset, insight: DatasetInsight) -> str:
    """`/tune datasets <name>`: the dataset and what is in it."""
    head = (
        f"*{esc(dataset.name)}* — {dataset.example_count:,} examples ({dataset.format.upper()}, "
        f"`{esc(dataset.file_name)}`, uploaded by <@{dataset.owner_user_id}>)"
    )
    return "\n".join([head, *insight_lines(insight), f"Start tuning with `/tune start {esc(dataset.name)}`."])


def start_estimate_text(
    store: Store,
    dataset: Dataset,
    *,
    epochs: int,
    base_model: str,
    prices: Mapping[str, float],
    currency: str = "USD",
    held_out_percent: float | None = None,
) -> str:
    """For a start: estimated training tokens (tokens × epochs) and, when priced, the cost.
    A `validation=N%` split trains on the rest, so the tokens shrink by that share."""
    insight = dataset_insight(store, dataset)
    share = 1.0 - (held_out_percent or 0.0) / 100.0
    return training_estimate(
        insight, epochs=epochs, base_model=base_model, prices=prices, currency=currency, share=share
    )


# ---- starting a job --------------------------------------------------------------------------


def check_start(store: Store, backend: TuningBackend, *, team_id: str, args: StartArgs) -> Dataset:
    """The fast checks of `/tune start` (no API call), so mistakes are answered at once."""
    dataset = store.datasets.find(team_id, args.dataset)
    if dataset is None or dataset.id is None:
        raise UserError(unknown_dataset_message(args.dataset, store.datasets.names(team_id)))
    refusal = backend.start_refusal(resolve_base_model(args.base_model, backend))
    if refusal:
        raise UserError(f":x: {refusal}")  # tunebot's own words and the configured names
    validation_dataset(store, team_id, args.validation, dataset)
    if args.validation is not None and args.validation.percent is not None and dataset.example_count < 2:
        raise UserError(
            f":x: Cannot hold out a validation set: dataset *{esc(dataset.name)}* has "
            f"{dataset.example_count} example; holding some out needs at least 2."
        )
    return dataset


def validation_dataset(
    store: Store, team_id: str, choice: ValidationChoice | None, training: Dataset
) -> Dataset | None:
    """The dataset named by `validation=<dataset>`, checked (None for a share or no validation)."""
    if choice is None or choice.dataset is None:
        return None
    found = store.datasets.find(team_id, choice.dataset)
    if found is None or found.id is None:
        names = store.datasets.names(team_id)
        raise UserError("Validation set: " + unknown_dataset_message(choice.dataset, names))
    if found.id == training.id:
        raise UserError(
            f"`validation={esc(choice.dataset)}` is the dataset being tuned on; a validation set must "
            "not be trained on. Hold a share out instead, e.g. `validation=10%`."
        )
    return found


def plan_holdout(
    store: Store,
    team_id: str,
    choice: ValidationChoice | None,
    dataset: Dataset,
    examples: list[TrainingPair],
    *,
    seed: str,
) -> Holdout:
    """Training examples and held-out ones for `choice` (none held out without a choice)."""
    if choice is None:
        return Holdout(training=examples, validation=[])
    try:
        if choice.percent is not None:
            return split_share(examples, choice.percent, seed=seed)
        other = validation_dataset(store, team_id, choice, dataset)
        assert other is not None and other.id is not None
        held = store.datasets.examples(other.id)
        return separate_set(examples, held, validation_name=other.name)
    except HoldoutError as exc:
        raise UserError(f":x: Cannot hold out a validation set: {esc(str(exc))}") from exc


def holdout_row(
    choice: ValidationChoice, holdout: Holdout, *, sent: bool, store: Store, team_id: str
) -> JobHoldout:
    other = store.datasets.find(team_id, choice.dataset) if choice.dataset is not None else None
    return JobHoldout(
        job_id=0,  # set by Store.create_job
        source="split" if choice.percent is not None else "dataset",
        percent=choice.percent,
        source_dataset_id=other.id if other is not None else None,
        example_count=len(holdout.validation),
        sent=sent,
        examples_gz=encode_examples(holdout.validation),
    )


def validation_note(store: Store, job: TuningJob) -> str | None:
    """What `/tune start` tells the user about the job's validation set, if it has one."""
    if job.id is None:
        return None
    holdout = store.evaluations.holdout(job.id)
    if holdout is None:
        return None
    count = holdout.example_count
    examples = f"{count:,} example{'s' if count != 1 else ''}"
    if holdout.source == "split":
        what = f"Held out *{examples}* ({holdout.percent:g}% of the dataset)"
    else:
        name = store.datasets.name_of(holdout.source_dataset_id) or "the validation dataset"
        what = f"Using *{examples}* from dataset *{esc(name)}*"
    if holdout.sent:
        return (
            f":test_tube: {what} as the validation set: they are never trained on, were uploaded as a "
            "second file, and the tuning service reports the eval loss on them."
        )
    return (
        f":test_tube: {what} for evaluation: they are never trained on. The Gemini API takes no "
        "validation set, so they were not sent and *no eval loss will be reported*; tunebot keeps "
        "them to evaluate the tuned model."
    )


async def start_job(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: StartArgs,
    hold_seconds: float = 120.0,
) -> TuningJob:
    """Create the tuned model and record the job.

    The job row (with the model id tunebot chose, which is also the request label
    Vertex jobs carry) is written, held for `hold_seconds`, before the service is asked:
    if the process dies after the create, a poller finds the model by that id once the
    hold expires, records it and its owner and announces it (`Poller._recover_unstarted`).
    If the service refuses, the row is removed again and the user sees the reason.
    """
    dataset = check_start(store, backend, team_id=team_id, args=args)
    assert dataset.id is not None
    base_model = resolve_base_model(args.base_model, backend)
    display_name = args.display_name or dataset.name[:40]
    examples = await asyncio.to_thread(store.datasets.examples, dataset.id)
    model_id = backend.new_model_id(display_name)
    holdout = plan_holdout(store, team_id, args.validation, dataset, examples, seed=model_id)
    held_row = (
        holdout_row(args.validation, holdout, sent=backend.supports_validation, store=store, team_id=team_id)
        if args.validation is not None
        else None
    )
    try:
        with writes_or_unavailable():
            job = store.jobs.create(
                TuningJob(
                    team_id=team_id,
                    owner_user_id=user_id,
                    channel_id=channel_id,
                    dataset_id=dataset.id,
                    backend=backend.name,
                    display_name=display_name,
                    base_model=base_model,
                    model_name=backend.model_name(model_id),
                    epoch_count=args.epoch_count,
                    batch_size=args.batch_size,
                    learning_rate=args.learning_rate,
                    state=JobState.QUEUED.value,
                    notice_state="starting",
                    lease_owner=STARTING_HOLDER,
                    lease_expires_at=utcnow() + timedelta(seconds=hold_seconds),
                ),
                held_row,
            )
    except StorageUnavailable as exc:
        # Nothing was sent to the tuning service: the job row is written before the create.
        log.error("could not record a new job: %s (nothing was started)", exc)
        raise UserError(
            not_saved_message(f"the job *{esc(display_name)}*", exc).replace(
                "Nothing was stored", "Nothing was stored and no tuning was started"
            )
        ) from exc
    assert job.id is not None
    request = TuningRequest(
        display_name=display_name,
        base_model=base_model,
        examples=holdout.training,
        validation_examples=holdout.validation if backend.supports_validation else (),
        epoch_count=args.epoch_count,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        description=f"Tuned from dataset {dataset.name} by tunebot",
        model_id=model_id,
    )
    try:
        started = await backend.start(request)
    except BackendError as exc:
        store.jobs.delete(job.id)
        raise UserError(
            f":x: The tuning service refused to start *{esc(display_name)}*: {esc(str(exc))}"
        ) from exc
    # Anything else (cancelled, killed) keeps the row: the create may have gone out.
    try:
        with writes_or_unavailable():
            recorded = await asyncio.to_thread(
                store.jobs.record_started,
                job.id,
                model_name=started.model_name,
                operation_name=started.operation_name,
                total_steps=started.total_steps,
            )
    except StorageUnavailable as exc:
        # The job row says "starting": a poller records it once the database can write again.
        log.error("could not record the job %s the service started: %s", job.id, exc)
        raise UserError(
            f":warning: The tuning service started *{esc(display_name)}*, but tunebot could not save "
            f"that yet ({exc}). It will be picked up and announced here once it can."
        ) from exc
    if started.validation_uri:
        store.evaluations.update_holdout(job.id, uri=started.validation_uri)
    current = recorded or store.jobs.get(job.id)
    assert current is not None
    return current


def unknown_dataset_message(wanted: str, names: list[str]) -> str:
    if not names:
        return f"There is no dataset `{esc(wanted)}`, and no datasets yet. Upload one with `/tune upload`."
    shown = ", ".join(f"`{esc(n)}`" for n in names[:15])
    more = f" and {len(names) - 15} more" if len(names) > 15 else ""
    return f"There is no dataset `{esc(wanted)}`. Datasets: {shown}{more}. `/tune datasets` lists yours."


def resolve_base_model(wanted: str | None, backend: TuningBackend) -> str:
    if not wanted:
        return backend.default_base_model
    names = {choice.name for choice in backend.base_models}
    candidate = wanted if wanted in names or wanted.startswith("models/") else f"models/{wanted}"
    if candidate in names:
        return candidate
    shown = ", ".join(f"`{esc(n)}`" for n in sorted(names))
    raise UserError(f"`{esc(wanted)}` cannot be tuned here. Base models that can: {shown}.")


# ---- naming models ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    return dataset_name_from(text.replace(".", "-") + ".x")


def resolve_model(store: Store, backend: TuningBackend, *, team_id: str, text: str) -> str:
    """What a user typed -> a model name: the display name of one of the team's models
    (`next number v2` or `next-number-v2`), its short id or its full name.

    Raises UserError listing the candidates when the display name is not unique."""
    wanted = " ".join(text.split()).strip("`<>")
    jobs = store.jobs.team_models(team_id)
    for job in jobs:
        if job.model_name and wanted in (job.model_name, job.model_name.rsplit("/", 1)[-1]):
            return job.model_name
    by_name = [
        job
        for job in jobs
        if job.model_name
        and (job.display_name.lower() == wanted.lower() or _slug(job.display_name) == _slug(wanted))
    ]
    names = list(dict.fromkeys(job.model_name for job in by_name if job.model_name))
    if len(names) == 1:
        return names[0]
    if len(names) > 1:
        shown = "\n".join(
            f"• *{esc(job.display_name)}* by <@{job.owner_user_id}>: `{esc(short_id(job.model_name or ''))}`"
            for job in by_name[:10]
        )
        raise UserError(
            f"Several models are called *{esc(wanted)}*; use the id of the one you mean:\n{shown}"
        )
    try:
        return backend.model_name(wanted)
    except ValueError as exc:
        raise UserError(
            f"There is no model called *{esc(wanted)}* in this team. `/tune list` shows the models."
        ) from exc


def short_id(model_name: str) -> str:
    """`tunedModels/numbers-x8k2p` -> `numbers-x8k2p`; a Vertex job -> its number."""
    return model_name.rsplit("/", 1)[-1]


def model_display_name(store: Store, model_name: str) -> str | None:
    job = store.jobs.for_model(model_name)
    return job.display_name if job is not None else None


def model_label(store: Store, model_name: str) -> str:
    """`*display name*` for a model tunebot made, else its id in code."""
    name = model_display_name(store, model_name)
    return f"*{esc(name)}*" if name else f"`{esc(short_id(model_name))}`"


async def check_try(store: Store, backend: TuningBackend, *, model_name: str) -> None:
    """Before a try thread is opened: the model exists and can answer (else UserError)."""
    job = store.jobs.for_model(model_name)
    if job is not None and job.state in (JobState.QUEUED.value, JobState.RUNNING.value):
        raise UserError(
            f":hourglass_flowing_sand: *{esc(job.display_name)}* is still tuning: {job.percent:.0f}%. "
            "`/tune status` shows how far it is."
        )
    try:
        model = await backend.get_model(model_name)
    except BackendError as exc:
        if exc.not_found:
            raise UserError(
                f"There is no tuned model {model_label(store, model_name)} (any more). "
                "`/tune list` shows the models."
            ) from exc
        raise UserError(
            f":x: Could not look up {model_label(store, model_name)} right now; try again in a minute."
        ) from exc
    if model.state == ModelState.TUNING:
        raise UserError(f":hourglass_flowing_sand: *{esc(model.display_name)}* is still tuning.")
    if model.state != ModelState.READY:
        raise UserError(f":x: *{esc(model.display_name)}* cannot answer: its tuning {model.state.value}.")


# ---- datasets -----------------------------------------------------------------------------------


def _owned_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, admins: Collection[str]
) -> Dataset:
    dataset = store.datasets.find(team_id, name)
    if dataset is None or dataset.id is None:
        raise UserError(unknown_dataset_message(name, store.datasets.names(team_id)))
    if dataset.owner_user_id != user_id and user_id not in admins:
        raise UserError(
            f":no_entry: Only <@{dataset.owner_user_id}> (who uploaded *{esc(dataset.name)}*) or a "
            "tunebot admin may change it."
        )
    return dataset


def delete_dataset(store: Store, *, team_id: str, user_id: str, name: str, admins: Collection[str]) -> str:
    dataset = _owned_dataset(store, team_id=team_id, user_id=user_id, name=name, admins=admins)
    assert dataset.id is not None
    store.datasets.delete(dataset.id)
    return (
        f":wastebasket: Deleted dataset *{esc(dataset.name)}* ({dataset.example_count:,} examples). "
        "Models tuned on it are kept."
    )


def rename_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, new_name: str, admins: Collection[str]
) -> str:
    dataset = _owned_dataset(store, team_id=team_id, user_id=user_id, name=name, admins=admins)
    assert dataset.id is not None
    cleaned = dataset_name_from(new_name + ".x")
    try:
        renamed = store.datasets.rename(dataset.id, cleaned)
    except DuplicateDatasetName as exc:
        raise UserError(f"There is already a dataset `{esc(cleaned)}`; choose another name.") from exc
    note = name_note(renamed.name, new_name, cleaned)
    return f":pencil2: Renamed dataset `{esc(dataset.name)}` to *{esc(renamed.name)}*{note}."


# ---- deleting a model ------------------------------------------------------------------------


def may_delete(owner: ModelOwnership | None, user_id: str, admins: Collection[str]) -> bool:
    """Only the model's owner or a configured admin may delete it."""
    if user_id in admins:
        return True
    return owner is not None and owner.owner_user_id == user_id


def delete_refusal(owner: ModelOwnership | None, label: str) -> str:
    if owner is None:
        return f":no_entry: {label} was not created through tunebot, so only a tunebot admin may delete it."
    return f":no_entry: Only <@{owner.owner_user_id}> (who owns {label}) or a tunebot admin may delete it."


@dataclass(frozen=True)
class DeletePrompt:
    model: ModelSummary
    tuning_percent: float | None  # set while the model is still tuning: a delete cancels it


async def describe_model_for_delete(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    model_text: str,
    admins: Collection[str],
) -> DeletePrompt:
    """Check a `/tune delete` request before asking for confirmation."""
    model_name = resolve_model(store, backend, team_id=team_id, text=model_text)
    label = model_label(store, model_name)
    owner = store.ownership.get(model_name)
    if not may_delete(owner, user_id, admins):
        raise UserError(delete_refusal(owner, label))
    job = store.jobs.for_model(model_name)
    try:
        model = await backend.get_model(model_name)
    except BackendError as exc:
        if exc.not_found:
            raise UserError(f"There is no tuned model {label} (it may be deleted already).") from exc
        raise UserError(f":x: Could not look up {label}: {esc(str(exc))}") from exc
    running = job is not None and job.state in (JobState.QUEUED.value, JobState.RUNNING.value)
    if running or model.state == ModelState.TUNING:
        return DeletePrompt(model, job.percent if job is not None else 0.0)
    return DeletePrompt(model, None)


@dataclass(frozen=True)
class Deleted:
    message: str
    cancelled: list[TuningJob]  # jobs that were still tuning: their messages need an edit


async def delete_model(
    store: Store, backend: TuningBackend, *, user_id: str, model_name: str, admins: Collection[str]
) -> Deleted:
    """Delete after the confirmation click; permission is checked again here because the
    confirm dialog only exists in the Slack client. Repeated clicks are harmless."""
    try:
        model_name = backend.model_name(model_name)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    label = model_label(store, model_name)
    owner = store.ownership.get(model_name)
    if not may_delete(owner, user_id, admins):
        raise UserError(delete_refusal(owner, label))
    if owner is not None and owner.deleted_at is not None:
        return Deleted(f"{label} was already deleted by <@{owner.deleted_by}>.", [])
    try:
        await backend.delete_model(model_name)
    except BackendError as exc:
        if not exc.not_found:
            raise UserError(f":x: The tuning service did not delete {label}: {esc(str(exc))}") from exc
        cancelled = store.ownership.mark_deleted(model_name, user_id)
        return Deleted(f"{label} no longer exists; nothing to delete.", cancelled)
    cancelled = store.ownership.mark_deleted(model_name, user_id)
    if cancelled:
        return Deleted(f":wastebasket: Cancelled the tuning of {label} and deleted it.", cancelled)
    short = esc(short_id(model_name))
    return Deleted(f":wastebasket: Deleted {label} (`{short}`).", cancelled)
