"""Backend-neutral tuning vocabulary shared by the Slack surface and the poller.

Nothing here knows whether the Gemini API or Vertex AI does the tuning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class LossPoint:
    step: int
    epoch: int
    mean_loss: float


@dataclass(frozen=True)
class TrainingPair:
    text_input: str
    output: str


@dataclass(frozen=True)
class TuningRequest:
    display_name: str
    base_model: str
    examples: Sequence[TrainingPair]
    epoch_count: int
    batch_size: int
    learning_rate: float
    description: str | None = None
    model_id: str | None = None
    # Held out of `examples` for validation; a backend without validation sets ignores it.
    validation_examples: Sequence[TrainingPair] = ()


@dataclass(frozen=True)
class StartedJob:
    model_name: str
    operation_name: str
    total_steps: int | None = None
    # Where the backend received the validation set, when it takes one.
    validation_uri: str | None = None


@dataclass(frozen=True)
class JobProgress:
    state: JobState
    percent: float = 0.0
    completed_steps: int | None = None
    total_steps: int | None = None
    epoch: int | None = None
    loss_points: tuple[LossPoint, ...] = ()
    error_message: str | None = None

    @property
    def mean_loss(self) -> float | None:
        return self.loss_points[-1].mean_loss if self.loss_points else None


class ModelState(StrEnum):
    TUNING = "tuning"
    READY = "ready"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ModelSummary:
    name: str
    display_name: str
    state: ModelState
    base_model: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class ModelPage:
    models: list[ModelSummary]
    next_page_token: str | None = None


@dataclass(frozen=True)
class BaseModelChoice:
    name: str
    label: str


class BackendError(Exception):
    """A tuning service refused or failed a request.

    `message` is the service's own reason in plain words, fit to show in Slack.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: str | None = None,
        retryable: bool = False,
        not_found: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = retryable
        self.not_found = not_found
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = f"{self.code} {self.status}: " if self.code and self.status else ""
        return prefix + self.message
