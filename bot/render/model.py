"""Backend-neutral data the renderers work on.

The Gemini API and Vertex AI report tuning progress differently; the job tracker
translates either into these frozen records so rendering stays pure and testable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LossPoint:
    """One point of the loss curve; `epoch` is 0-based as the API reports it."""

    step: int
    epoch: int
    mean_loss: float


@dataclass(frozen=True)
class JobView:
    """Everything a progress message shows about one tuning job."""

    job_id: int
    display_name: str
    model_name: str
    owner_user_id: str
    base_model: str
    state: str
    percent: float
    completed_steps: int | None
    total_steps: int | None
    epoch: int | None
    epoch_count: int | None
    mean_loss: float | None
    started_at: datetime
    now: datetime
    error_message: str | None = None
    dataset_name: str | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
