"""Continuing from a tuned model (`/tune start <dataset> from=<model> [checkpoint=N]`): which
model, whether it can be continued from, and what the new job records of it.

Vertex AI tunes further from a tuned model, or one of its checkpoints, when the create names
it as `preTunedModel` in the base model's place; the new job has the parent's base model.
The Gemini API has no such thing, and says so before anything is created."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.backends.backend import TuningBackend
from bot.domain.errors import BackendError
from bot.domain.requests import StartArgs
from bot.domain.types import JobState, ModelState
from bot.services.errors import ModelGone, ModelLookupFailed, ModelRef, NoSuchCheckpoint, ServiceError
from bot.services.models import model_ref, resolve_model, short_id
from bot.storage.store import Store


@dataclass(eq=False)
class ContinueNeedsVertex(ServiceError):
    """`from=` on a backend without continued tuning (the Gemini API)."""

    backend: str


@dataclass(eq=False)
class CannotContinueFrom(ServiceError):
    """The model to continue from is not a finished, ready model: still tuning (`percent`
    when tunebot knows it), failed or cancelled (`state`, a ModelState or JobState value)."""

    display_name: str
    state: str
    percent: float | None = None


@dataclass(eq=False)
class ContinueBaseModelMismatch(ServiceError):
    """`base_model=` names another base model than the one the parent was tuned from."""

    display_name: str
    parent_base_model: str
    wanted: str


@dataclass(frozen=True)
class Parent:
    """The tuned model a job continues from: its model name (tunebot's handle), the name it
    is shown by, its base model (when known) and the checkpoint asked for."""

    model_name: str
    display_name: str
    base_model: str | None
    checkpoint: str | None = None


def find_parent(store: Store, backend: TuningBackend, *, team_id: str, args: StartArgs) -> Parent | None:
    """The model `from=` names (an alias, a display name or an id), checked without an API
    call: the backend continues tuning, the model is known and was not deleted through
    tunebot, and `base_model=` (if given) is its base model. None without `from=`."""
    if args.from_model is None:
        return None
    if not backend.supports_continuing:
        raise ContinueNeedsVertex(backend.name)
    model_name = resolve_model(store, backend, team_id=team_id, text=args.from_model)
    owner = store.ownership.get(model_name)
    if owner is not None and owner.deleted_at is not None:
        raise ModelGone(model_ref(store, model_name), "try")
    job = store.jobs.for_model(model_name)
    if job is not None and job.state in (JobState.QUEUED.value, JobState.RUNNING.value):
        raise CannotContinueFrom(job.display_name, ModelState.TUNING.value, job.percent)
    # A cancelled job goes on from a checkpoint it kept (checked with the service later).
    from_cancelled = job is not None and job.state == JobState.CANCELLED.value and args.from_checkpoint
    if job is not None and job.state != JobState.SUCCEEDED.value and not from_cancelled:
        raise CannotContinueFrom(job.display_name, job.state)
    parent = Parent(
        model_name=model_name,
        display_name=job.display_name if job is not None else short_id(model_name),
        base_model=job.base_model if job is not None else None,
        checkpoint=args.from_checkpoint,
    )
    check_base_model(parent, args)
    return parent


def check_base_model(parent: Parent, args: StartArgs) -> None:
    if parent.base_model is None or not args.base_model:
        return
    wanted = args.base_model.removeprefix("models/").removeprefix("publishers/google/models/")
    if wanted != parent.base_model.removeprefix("models/"):
        raise ContinueBaseModelMismatch(parent.display_name, parent.base_model, args.base_model)


async def check_parent(store: Store, backend: TuningBackend, parent: Parent, args: StartArgs) -> Parent:
    """Ask the tuning service: the parent exists, is ready, and has the checkpoint asked for
    (else the refusal lists those it has). Returns it with its base model as the service says."""
    ref = ModelRef(parent.model_name, parent.display_name)
    try:
        model = await backend.get_model(parent.model_name)
    except BackendError as exc:
        if exc.not_found:
            raise ModelGone(ref, "try") from exc
        raise ModelLookupFailed(ref, str(exc)) from exc
    if model.state == ModelState.TUNING:
        raise CannotContinueFrom(parent.display_name, ModelState.TUNING.value)
    # A job stopped with /tune cancel has no final model, but the checkpoints of the epochs it
    # finished stay usable: tuning goes on from one of them (issue #22 item 6).
    from_kept_checkpoint = parent.checkpoint is not None and any(
        c.checkpoint_id == parent.checkpoint for c in model.checkpoints
    )
    if model.state != ModelState.READY and not from_kept_checkpoint:
        raise CannotContinueFrom(parent.display_name, model.state.value)
    if parent.checkpoint is not None and not any(
        c.checkpoint_id == parent.checkpoint for c in model.checkpoints
    ):
        raise NoSuchCheckpoint(parent.display_name, parent.checkpoint, model.checkpoints)
    checked = replace(parent, base_model=parent.base_model or model.base_model or None)
    check_base_model(checked, args)
    return checked
