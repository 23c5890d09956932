"""Starting a tuning job: the checks of `/tune start`, the validation hold-out, the start."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.backends.backend import TuningBackend
from bot.backends.gemini_backend import DEFAULT_BATCH_SIZE, DEFAULT_EPOCHS, DEFAULT_LEARNING_RATE
from bot.datasets.core import Limits
from bot.datasets.holdout import Holdout, HoldoutError, separate_set, split_share
from bot.datasets.limits import limits_for
from bot.domain.errors import BackendError, StorageUnavailable
from bot.domain.pricing import CostEstimate
from bot.domain.requests import StartArgs, ValidationChoice
from bot.domain.types import JobState, TrainingExample, TuningRequest
from bot.services.cloud import (
    check_cloud_start,
    check_unchanged,
    cloud_holdout,
    cloud_sources,
    in_place_validation,
)
from bot.services.datasets import find_dataset, lookup_dataset
from bot.services.errors import (
    BaseModelNotTunable,
    HoldoutFailed,
    HoldoutTooSmall,
    JobNotSaved,
    OptionsRefused,
    RefusedOption,
    StartNotRecorded,
    StartRefused,
    StartRejected,
    UnknownDataset,
    ValidationIsTraining,
)
from bot.services.limits import check_dataset_shape, check_example_tokens, check_validation_size
from bot.services.lineage import Parent, check_parent, find_parent
from bot.services.start_costs import cost_columns, record_start_cost, with_epochs
from bot.storage.engine import writes_or_unavailable
from bot.storage.models import Dataset, JobHoldout, TuningJob, utcnow
from bot.storage.repositories.datasets import encode_examples
from bot.storage.store import Store

log = logging.getLogger(__name__)

STARTING_HOLDER = "tune-start"  # the lease owner of a job whose create is being sent


def check_start(
    store: Store, backend: TuningBackend, *, team_id: str, args: StartArgs, limits: Limits | None = None
) -> Dataset:
    """The fast checks of `/tune start` (no API call), so mistakes are answered at once.
    `limits`: the backend's dataset limits as configured (default: its own)."""
    limits = limits or limits_for(backend.name)
    dataset = find_dataset(store, team_id, args.dataset)
    base_model = chosen_base_model(store, backend, team_id=team_id, args=args)
    check_options(backend, base_model, args)
    refusal = backend.start_refusal(base_model, args.adapter_size)
    if refusal:
        raise StartRefused(refusal)
    check_dataset_shape(backend, limits, dataset, base_model)
    other = validation_dataset(store, team_id, args.validation, dataset)
    check_cloud_start(backend, args.validation, dataset, other)  # a gs:// dataset's limits
    if args.validation is not None and args.validation.percent is not None and dataset.example_count < 2:
        raise HoldoutTooSmall(dataset.display_name, dataset.example_count)
    if other is not None and backend.supports_validation:  # sent with the job, so checked as well
        check_example_tokens(backend, limits, other, base_model)
    check_validation_size(limits, args.validation, dataset, other)
    return dataset


# Vertex AI's own options: what another backend says when it is given one.
VERTEX_ONLY = ("learning_rate_multiplier", "adapter_size", "export_last_checkpoint_only")


def check_options(backend: TuningBackend, base_model: str, args: StartArgs) -> None:
    """Refuse the tuning options `backend` does not take, and an adapter size `base_model`
    does not allow, all at once, before anything is created."""
    refused: list[RefusedOption] = []
    for option in args.given:
        if option in backend.options:
            continue
        if option == "batch_size":
            refused.append(RefusedOption(option, "batch_size_chosen"))
        elif option == "learning_rate":
            refused.append(RefusedOption(option, "use_multiplier"))
        elif option in VERTEX_ONLY:
            refused.append(RefusedOption(option, "vertex_only"))
        else:
            refused.append(RefusedOption(option, "not_taken"))
    if args.adapter_size is not None and "adapter_size" in backend.options:
        allowed = backend.adapter_sizes(base_model)
        if allowed and args.adapter_size not in allowed:
            refused.append(RefusedOption("adapter_size", "adapter_size", allowed))
    if refused:
        raise OptionsRefused(backend.name, base_model, tuple(refused))


def tuning_values(backend: TuningBackend, args: StartArgs) -> tuple[int, int, float]:
    """The job row's epochs, batch size and learning rate: what was asked, else the Gemini
    API's defaults; 0 on a backend that chooses them (Vertex AI: 0 epochs until it reports
    the number it chose; what Vertex received is the job's `hyperparameters`)."""
    takes = backend.options
    epochs = args.epoch_count or (DEFAULT_EPOCHS if "batch_size" in takes else 0)
    batch = args.batch_size or (DEFAULT_BATCH_SIZE if "batch_size" in takes else 0)
    rate = args.learning_rate or (DEFAULT_LEARNING_RATE if "learning_rate" in takes else 0.0)
    return epochs, batch, rate


def start_epochs(backend: TuningBackend, args: StartArgs) -> int | None:
    """The epochs a start trains for, if known before it starts (None: Vertex AI picks)."""
    return tuning_values(backend, args)[0] or None


def validation_dataset(
    store: Store, team_id: str, choice: ValidationChoice | None, training: Dataset
) -> Dataset | None:
    """The dataset named by `validation=<dataset>`, checked (None for a share or no validation)."""
    if choice is None or choice.dataset is None:
        return None
    found = lookup_dataset(store, team_id, choice.dataset)
    if found is None or found.id is None:
        raise UnknownDataset(choice.dataset, store.datasets.names(team_id), for_validation=True)
    if found.id == training.id:
        raise ValidationIsTraining(choice.dataset)
    return found


def plan_holdout(
    store: Store,
    team_id: str,
    choice: ValidationChoice | None,
    dataset: Dataset,
    examples: list[TrainingExample],
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
        raise HoldoutFailed(str(exc)) from exc


def holdout_row(
    choice: ValidationChoice, holdout: Holdout, *, sent: bool, store: Store, team_id: str
) -> JobHoldout:
    other = lookup_dataset(store, team_id, choice.dataset) if choice.dataset is not None else None
    return JobHoldout(
        job_id=0,  # set by Store.create_job
        source="split" if choice.percent is not None else "dataset",
        percent=choice.percent,
        source_dataset_id=other.id if other is not None else None,
        example_count=len(holdout.validation),
        sent=sent,
        examples_gz=encode_examples(holdout.validation),
    )


@dataclass(frozen=True)
class ValidationSet:
    """A job's validation set: `example_count` examples held out of a "split" (`percent`
    of the dataset) or taken from another "dataset" (`dataset_name`); `sent` when the
    tuning service received them (and so reports an eval loss)."""

    source: Literal["split", "dataset"]
    example_count: int
    percent: float | None
    dataset_name: str | None
    sent: bool
    # A validation dataset read in place from Cloud Storage: its URI (Vertex reads it there)
    # and how many of its first examples tunebot kept for the held-out evaluation.
    source_uri: str | None = None
    evaluated: int = 0


def validation_set(store: Store, job: TuningJob) -> ValidationSet | None:
    """The job's validation set, if it has one."""
    if job.id is None:
        return None
    holdout = store.evaluations.holdout(job.id)
    if holdout is None:
        return None
    source: Literal["split", "dataset"] = "split" if holdout.source == "split" else "dataset"
    name = store.datasets.name_of(holdout.source_dataset_id) if source == "dataset" else None
    held = ValidationSet(source, holdout.example_count, holdout.percent, name, holdout.sent)
    return in_place_validation(store, job, holdout, held)


async def start_job(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: StartArgs,
    hold_seconds: float = 120.0,
    eval_examples: int = 50,
    limits: Limits | None = None,
    cost: CostEstimate | None = None,
    holdout_seed: str | None = None,
    sweep_id: int | None = None,
) -> TuningJob:
    """Create the tuned model and record the job.

    `holdout_seed`: the seed of a `validation=N%` split (default: the new model's id); the
    variants of a sweep share one, so they hold out the same examples. `sweep_id`: its sweep.

    `cost`: the start's estimate (bot.domain.pricing), written to the job row and, with the
    epochs Vertex AI chose when it chose them, to the audit line of the start.

    The job row (with the model id tunebot chose, which is also the request label
    Vertex jobs carry) is written, held for `hold_seconds`, before the service is asked:
    if the process dies after the create, a poller finds the model by that id once the
    hold expires, records it and its owner and announces it (`Poller._recover_unstarted`).
    If the service refuses, the row is removed again and the user sees the reason.

    A dataset read in place from Cloud Storage (training or validation) goes to Vertex as
    its URI, uncopied; of a validation one, its first `eval_examples` examples are kept for
    the held-out evaluation.
    """
    dataset = await store.run(check_start, store, backend, team_id=team_id, args=args, limits=limits)
    assert dataset.id is not None
    parent = await store.run(find_parent, store, backend, team_id=team_id, args=args)
    if parent is not None:  # continued tuning: the parent's base model, checked with the service
        parent = await check_parent(store, backend, parent, args)
    base_model = parent_base_model(parent) or resolve_base_model(args.base_model, backend)
    display_name = args.display_name or dataset.display_name[:40]
    cloud = await store.run(cloud_sources, store, team_id, args.validation, dataset)
    if cloud is not None:
        await check_unchanged(backend, cloud, dataset)
    examples = [] if dataset.source_uri else await store.run(store.datasets.examples, dataset.id)
    epochs, batch, rate = tuning_values(backend, args)
    model_id = backend.new_model_id(display_name)
    if cloud is not None:
        holdout, held_row = await cloud_holdout(store, backend, cloud, examples, eval_examples)
    else:
        holdout = await store.run(
            plan_holdout,
            store,
            team_id,
            args.validation,
            dataset,
            examples,
            seed=holdout_seed or model_id,
        )
        held_row = (
            await store.run(
                holdout_row,
                args.validation,
                holdout,
                sent=backend.supports_validation,
                store=store,
                team_id=team_id,
            )
            if args.validation is not None
            else None
        )
    try:
        with writes_or_unavailable():
            job = await store.run(
                store.jobs.create,
                TuningJob(
                    team_id=team_id,
                    owner_user_id=user_id,
                    channel_id=channel_id,
                    dataset_id=dataset.id,
                    backend=backend.name,
                    display_name=display_name,
                    base_model=base_model,
                    model_name=backend.model_name(model_id),
                    epoch_count=epochs,
                    batch_size=batch,
                    learning_rate=rate,
                    state=JobState.QUEUED.value,
                    notice_state="starting",
                    lease_owner=STARTING_HOLDER,
                    lease_expires_at=utcnow() + timedelta(seconds=hold_seconds),
                    parent_model=parent.model_name if parent is not None else None,
                    parent_checkpoint=parent.checkpoint if parent is not None else None,
                    parent_name=parent.display_name[:80] if parent is not None else None,
                    sweep_id=sweep_id,
                    **cost_columns(with_epochs(cost, epochs or None)),
                ),
                held_row,
            )
    except StorageUnavailable as exc:
        # Nothing was sent to the tuning service: the job row is written before the create.
        log.error("could not record a new job: %s (nothing was started)", exc)
        raise JobNotSaved(display_name, str(exc)) from exc
    assert job.id is not None
    request = TuningRequest(
        display_name=display_name,
        base_model=base_model,
        examples=holdout.training,
        validation_examples=(
            holdout.validation
            if backend.supports_validation and (cloud is None or cloud.validation_uri is None)
            else ()
        ),
        epoch_count=args.epoch_count or epochs or None,
        batch_size=batch or None,
        learning_rate=rate or None,
        description=(
            f"Tuned from dataset {dataset.display_name} by tunebot"
            + (f", continued from {parent.display_name}" if parent is not None else "")
        ),
        model_id=model_id,
        learning_rate_multiplier=args.learning_rate_multiplier,
        adapter_size=args.adapter_size,
        export_last_checkpoint_only=args.export_last_checkpoint_only,
        training_uri=cloud.training_uri if cloud is not None else None,
        validation_uri=cloud.validation_uri if cloud is not None else None,
        pre_tuned_model=parent.model_name if parent is not None else None,
        pre_tuned_checkpoint=parent.checkpoint if parent is not None else None,
    )
    try:
        started = await backend.start(request)
    except BackendError as exc:
        await store.run(store.jobs.delete, job.id)
        raise StartRejected(display_name, str(exc)) from exc
    # Anything else (cancelled, killed) keeps the row: the create may have gone out.
    try:
        with writes_or_unavailable():
            recorded = await store.run(
                store.jobs.record_started,
                job.id,
                model_name=started.model_name,
                operation_name=started.operation_name,
                total_steps=started.total_steps,
                hyperparameters=started.hyperparameters,
            )
    except StorageUnavailable as exc:
        # The job row says "starting": a poller records it once the database can write again.
        log.error("could not record the job %s the service started: %s", job.id, exc)
        raise StartNotRecorded(display_name, str(exc)) from exc
    if started.validation_uri:
        await store.run(store.evaluations.update_holdout, job.id, uri=started.validation_uri)
    current = recorded or await store.run(store.jobs.get, job.id)
    assert current is not None
    return await store.run(record_start_cost, store, current, cost, actor_user_id=user_id)


def chosen_base_model(store: Store, backend: TuningBackend, *, team_id: str, args: StartArgs) -> str:
    """The base model a start tunes: that of the model it continues from (`from=`), else
    `base_model=` or the backend's default."""
    parent = find_parent(store, backend, team_id=team_id, args=args)
    return parent_base_model(parent) or resolve_base_model(args.base_model, backend)


def parent_base_model(parent: Parent | None) -> str | None:
    """The base model of the model a job continues from, as tunebot names base models."""
    if parent is None or not parent.base_model:
        return None
    return parent.base_model.removeprefix("publishers/google/models/")


def resolve_base_model(wanted: str | None, backend: TuningBackend) -> str:
    if not wanted:
        return backend.default_base_model
    names = {choice.name for choice in backend.base_models}
    candidate = wanted if wanted in names or wanted.startswith("models/") else f"models/{wanted}"
    if candidate in names:
        return candidate
    raise BaseModelNotTunable(wanted, sorted(names))
