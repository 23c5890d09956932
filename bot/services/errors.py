"""Why a service refused a request, as data; `bot.presentation.errors.error_text` words it.

Every error here is a `UserError` (something the user can fix or should know), so code
that catches `UserError` catches these too; show them with `error_text(exc)`, not `str()`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.domain.errors import UserError
from bot.domain.types import Checkpoint


class ServiceError(UserError):
    """A refusal with the facts needed to explain it (`str()` is for logs only)."""

    def __str__(self) -> str:
        facts = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({facts})"


@dataclass(frozen=True)
class ModelRef:
    """A model as people know it: tunebot's display name when tunebot made it, else its id."""

    model_name: str
    display_name: str | None = None


@dataclass(eq=False)
class UnknownDataset(ServiceError):
    wanted: str
    names: Sequence[str]
    for_validation: bool = False  # named by `validation=<dataset>`


@dataclass(eq=False)
class NotDatasetOwner(ServiceError):
    owner_user_id: str
    dataset: str


@dataclass(eq=False)
class DatasetNameTaken(ServiceError):
    name: str


@dataclass(eq=False)
class StartRefused(ServiceError):
    """The backend's own words on why it cannot start this (e.g. a missing setting)."""

    reason: str


@dataclass(frozen=True)
class RefusedOption:
    """One tuning option the backend does not take: `kind` says why ("batch_size_chosen":
    Vertex AI chooses the batch size; "use_multiplier": Vertex AI takes a learning-rate
    multiplier; "vertex_only": only Vertex AI takes it; "adapter_size": this base model does
    not allow the size, `allowed` lists the sizes it does)."""

    option: str
    kind: str
    allowed: tuple[int, ...] = ()


@dataclass(eq=False)
class OptionsRefused(ServiceError):
    """Tuning options this backend (`backend`, its name) does not take; nothing was created."""

    backend: str
    base_model: str
    refused: tuple[RefusedOption, ...]


@dataclass(eq=False)
class BaseModelNotTunable(ServiceError):
    wanted: str
    tunable: Sequence[str]


@dataclass(eq=False)
class ValidationIsTraining(ServiceError):
    dataset: str


@dataclass(eq=False)
class HoldoutTooSmall(ServiceError):
    dataset: str
    example_count: int


@dataclass(eq=False)
class HoldoutFailed(ServiceError):
    reason: str


@dataclass(eq=False)
class JobNotSaved(ServiceError):
    """The job row could not be written; nothing was sent to the tuning service."""

    display_name: str
    reason: str


@dataclass(eq=False)
class StartRejected(ServiceError):
    display_name: str
    reason: str


@dataclass(eq=False)
class StartNotRecorded(ServiceError):
    """The service started the job but tunebot could not save that yet."""

    display_name: str
    reason: str


@dataclass(frozen=True)
class Candidate:
    display_name: str
    owner_user_id: str
    model_name: str


@dataclass(eq=False)
class AmbiguousModel(ServiceError):
    wanted: str
    candidates: Sequence[Candidate]


@dataclass(eq=False)
class UnknownModel(ServiceError):
    wanted: str


@dataclass(eq=False)
class StillTuning(ServiceError):
    display_name: str
    percent: float | None = None  # tunebot's job's progress, when tunebot knows it


@dataclass(eq=False)
class ModelNotReady(ServiceError):
    display_name: str
    state: str  # the `ModelState` value


@dataclass(eq=False)
class NoSuchCheckpoint(ServiceError):
    display_name: str
    checkpoint: str
    available: Sequence[Checkpoint]  # the checkpoints that can answer


@dataclass(eq=False)
class ModelGone(ServiceError):
    model: ModelRef
    during: Literal["try", "delete"]


@dataclass(eq=False)
class ModelLookupFailed(ServiceError):
    model: ModelRef
    reason: str | None = None  # shown when set; else "try again in a minute"


@dataclass(eq=False)
class DeleteRefused(ServiceError):
    model: ModelRef
    owner_user_id: str | None  # None: not created through tunebot


@dataclass(eq=False)
class DeleteFailed(ServiceError):
    model: ModelRef
    reason: str


@dataclass(eq=False)
class TuningNotDone(ServiceError):
    """Evaluating or comparing a model whose tunebot job has not succeeded."""

    model_name: str
    state: str


@dataclass(eq=False)
class NoTunedModel(ServiceError):
    """The tuning service has no tuned model `model_name` (to evaluate or compare)."""

    model_name: str


@dataclass(eq=False)
class TunedModelLookupFailed(ServiceError):
    model_name: str
    reason: str


@dataclass(eq=False)
class NoBaseModel(ServiceError):
    """The tuning service does not say which base model `model_name` was tuned from."""

    model_name: str


# ---- datasets read in place from Cloud Storage (`/tune upload gs://…`) -------------------


@dataclass(eq=False)
class CloudStorageNeedsVertex(ServiceError):
    """`/tune upload gs://…` on a backend that takes its examples inline (the Gemini API)."""

    backend: str


@dataclass(eq=False)
class CloudObjectUnreadable(ServiceError):
    """The object could not be read: `reason` is "no_object", "no_bucket", "forbidden" or
    "failed"; `detail` is Cloud Storage's own message."""

    uri: str
    reason: Literal["no_object", "no_bucket", "forbidden", "failed"]
    detail: str


@dataclass(eq=False)
class CloudObjectTooLarge(ServiceError):
    uri: str
    size: int
    limit: int


@dataclass(eq=False)
class CloudObjectIsTunebots(ServiceError):
    """The object is under the prefix where tunebot keeps (and deletes) its own files."""

    uri: str
    prefix: str


@dataclass(eq=False)
class CloudDatasetNotSplit(ServiceError):
    """`validation=N%` on a dataset read in place: tunebot does not copy it, so cannot split it."""

    dataset: str


@dataclass(eq=False)
class CloudDatasetNeedsVertex(ServiceError):
    """A dataset read in place from Cloud Storage, started (or evaluated) where only inline
    examples are taken."""

    dataset: str
    backend: str


@dataclass(eq=False)
class CloudObjectNotVertexRecords(ServiceError):
    """Vertex AI reads a Cloud Storage dataset as it is: its own supervised-tuning JSON Lines
    only. `found` says what the file holds instead."""

    uri: str
    found: str  # tunebot's words: "CSV", "a JSON document", "OpenAI chat records", "records"…
    keys: tuple[str, ...] = ()  # the first record's keys (the file's own words)


@dataclass(eq=False)
class CloudObjectChanged(ServiceError):
    """The object of a dataset read in place was overwritten after it was validated."""

    dataset: str
    uri: str


@dataclass(eq=False)
class CloudDatasetNotEvaluated(ServiceError):
    """`/tune eval` on a dataset read in place: tunebot keeps none of its examples."""

    dataset: str


# ---- team aliases (issue #23): `/tune promote`, and an alias wherever a model is typed ----


@dataclass(eq=False)
class BadAliasName(ServiceError):
    """An alias name refused: `reason` is "empty", "too_long", "uppercase", "characters",
    "digits" (a number is a model's id), "model_id" or "model_name" (a model is already
    called that); `hint` is the name to use instead, when there is one."""

    wanted: str
    reason: str
    hint: str | None = None


@dataclass(eq=False)
class PromoteRefused(ServiceError):
    model: ModelRef
    owner_user_id: str | None  # None: not created through tunebot


@dataclass(eq=False)
class AliasModelGone(ServiceError):
    """The alias points to a model deleted through tunebot (by `deleted_by`)."""

    alias: str
    model: ModelRef
    deleted_by: str | None
