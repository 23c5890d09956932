"""Tuned models: finding one by what a user typed, checking it can answer, deleting it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from bot.backends.backend import TuningBackend
from bot.domain.errors import BackendError, UserError
from bot.domain.types import JobState, ModelState, ModelSummary
from bot.services.audit import record_delete
from bot.services.errors import (
    AliasModelGone,
    AmbiguousModel,
    Candidate,
    DeleteFailed,
    DeleteRefused,
    ModelGone,
    ModelLookupFailed,
    ModelNotReady,
    ModelRef,
    NoSuchCheckpoint,
    StillTuning,
    UnknownModel,
)
from bot.storage.models import ModelOwnership, TuningJob
from bot.storage.repositories.datasets import dataset_name_from
from bot.storage.store import Store


def _slug(text: str) -> str:
    return dataset_name_from(text.replace(".", "-") + ".x")


def resolve_model(store: Store, backend: TuningBackend, *, team_id: str, text: str) -> str:
    """What a user typed -> a model name: the display name of one of the team's models
    (`next number v2` or `next-number-v2`), its short id or its full name.

    Raises AmbiguousModel listing the candidates when the display name is not unique."""
    wanted = " ".join(text.split()).strip("`<>")
    jobs = store.jobs.team_models(team_id)
    for job in jobs:
        if job.model_name and wanted in (job.model_name, job.model_name.rsplit("/", 1)[-1]):
            return job.model_name
    aliased = alias_target(store, team_id, wanted)
    if aliased is not None:
        return aliased
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
        candidates = [
            Candidate(job.display_name, job.owner_user_id, job.model_name or "") for job in by_name[:10]
        ]
        raise AmbiguousModel(wanted, candidates)
    try:
        return backend.model_name(wanted)
    except ValueError as exc:
        raise UnknownModel(wanted) from exc


def alias_target(store: Store, team_id: str, text: str) -> str | None:
    """The model the team's alias `text` points to (None: no such alias). An alias whose
    model was deleted through tunebot raises AliasModelGone, naming who deleted it."""
    name = text.strip().lower()
    alias = store.aliases.get(team_id, name) if name else None
    if alias is None:
        return None
    owner = store.ownership.get(alias.model_name)
    if owner is not None and owner.deleted_at is not None:
        raise AliasModelGone(alias.name, model_ref(store, alias.model_name), owner.deleted_by)
    return alias.model_name


def short_id(model_name: str) -> str:
    """`tunedModels/numbers-x8k2p` -> `numbers-x8k2p`; a Vertex job -> its number."""
    return model_name.rsplit("/", 1)[-1]


def model_display_name(store: Store, model_name: str) -> str | None:
    job = store.jobs.for_model(model_name)
    return job.display_name if job is not None else None


def model_ref(store: Store, model_name: str) -> ModelRef:
    return ModelRef(model_name, model_display_name(store, model_name))


async def check_try(
    store: Store, backend: TuningBackend, *, model_name: str, checkpoint: str | None = None
) -> None:
    """Before a try thread is opened: the model (or the checkpoint asked for) exists and can
    answer (else a UserError)."""
    job = await store.run(store.jobs.for_model, model_name)
    if job is not None and job.state in (JobState.QUEUED.value, JobState.RUNNING.value):
        raise StillTuning(job.display_name, job.percent)
    try:
        model = await backend.get_model(model_name)
    except BackendError as exc:
        if exc.not_found:
            raise ModelGone(await store.run(model_ref, store, model_name), "try") from exc
        raise ModelLookupFailed(await store.run(model_ref, store, model_name)) from exc
    if model.state == ModelState.TUNING:
        raise StillTuning(model.display_name)
    available = [c for c in model.checkpoints if c.endpoint]
    if checkpoint is not None and any(c.checkpoint_id == checkpoint for c in available):
        return  # a checkpoint answers on its own endpoint, also after a cancel (`/tune cancel`)
    if model.state != ModelState.READY and not (checkpoint is not None and available):
        raise ModelNotReady(model.display_name, model.state.value)
    if checkpoint is not None:
        name = job.display_name if job is not None else model.display_name
        raise NoSuchCheckpoint(name, checkpoint, available)


def may_delete(owner: ModelOwnership | None, user_id: str, admins: Collection[str]) -> bool:
    """Only the model's owner or a configured admin may delete it."""
    if user_id in admins:
        return True
    return owner is not None and owner.owner_user_id == user_id


def _check_may_delete(
    owner: ModelOwnership | None, user_id: str, admins: Collection[str], ref: ModelRef
) -> None:
    if not may_delete(owner, user_id, admins):
        raise DeleteRefused(ref, owner.owner_user_id if owner is not None else None)


@dataclass(frozen=True)
class DeletePrompt:
    model: ModelSummary
    tuning_percent: float | None  # set while the model is still tuning: a delete cancels it
    aliases: tuple[str, ...] = ()  # the team's aliases that point to it (the prompt warns)


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
    model_name = await store.run(resolve_model, store, backend, team_id=team_id, text=model_text)
    ref = await store.run(model_ref, store, model_name)
    _check_may_delete(await store.run(store.ownership.get, model_name), user_id, admins, ref)
    job = await store.run(store.jobs.for_model, model_name)
    try:
        model = await backend.get_model(model_name)
    except BackendError as exc:
        if exc.not_found:
            raise ModelGone(ref, "delete") from exc
        raise ModelLookupFailed(ref, str(exc)) from exc
    aliases = tuple(await store.run(store.aliases.pointing_to, team_id, model_name))
    running = job is not None and job.state in (JobState.QUEUED.value, JobState.RUNNING.value)
    if running or model.state == ModelState.TUNING:
        return DeletePrompt(model, job.percent if job is not None else 0.0, aliases)
    return DeletePrompt(model, None, aliases)


@dataclass(frozen=True)
class Deleted:
    """What a delete did: "deleted" the model, "cancelled" its tuning and deleted it, found it
    "already" deleted (by `deleted_by`), or found it "gone" from the tuning service."""

    kind: Literal["deleted", "cancelled", "already", "gone"]
    model: ModelRef
    cancelled: list[TuningJob] = field(default_factory=list)  # jobs still tuning: their messages need an edit
    deleted_by: str | None = None
    aliases: tuple[str, ...] = ()  # the team's aliases that pointed to it: they now point to nothing


async def delete_model(
    store: Store,
    backend: TuningBackend,
    *,
    user_id: str,
    model_name: str,
    admins: Collection[str],
    team_id: str = "",
    currency: str = "USD",
) -> Deleted:
    """Delete after the confirmation click; permission is checked again here because the
    confirm dialog only exists in the Slack client. Repeated clicks are harmless. A delete is
    appended to the team's audit log (`team_id`; the model's own team when tunebot made it)."""
    try:
        model_name = backend.model_name(model_name)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    ref = await store.run(model_ref, store, model_name)
    owner = await store.run(store.ownership.get, model_name)
    _check_may_delete(owner, user_id, admins, ref)
    if owner is not None and owner.deleted_at is not None:
        return Deleted("already", ref, [], owner.deleted_by)
    team = owner.team_id if owner is not None else team_id
    aliases = tuple(await store.run(store.aliases.pointing_to, team, model_name)) if team else ()
    try:
        await backend.delete_model(model_name)
    except BackendError as exc:
        if not exc.not_found:
            raise DeleteFailed(ref, str(exc)) from exc
        gone = await store.run(store.ownership.mark_deleted, model_name, user_id)
        await _audit_delete(store, owner, team_id, user_id, model_name, gone, currency)
        return Deleted("gone", ref, gone, aliases=aliases)
    cancelled = await store.run(store.ownership.mark_deleted, model_name, user_id)
    await _audit_delete(store, owner, team_id, user_id, model_name, cancelled, currency)
    return Deleted("cancelled" if cancelled else "deleted", ref, cancelled, aliases=aliases)


async def _audit_delete(
    store: Store,
    owner: ModelOwnership | None,
    team_id: str,
    user_id: str,
    model_name: str,
    cancelled: list[TuningJob],
    currency: str,
) -> None:
    team = owner.team_id if owner is not None else team_id
    await store.run(
        record_delete,
        store,
        team_id=team,
        user_id=user_id,
        model_name=model_name,
        cancelled=cancelled,
        currency=currency,
    )
