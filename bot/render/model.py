"""Backend-neutral data the renderers work on.

The Gemini API and Vertex AI report tuning progress differently; the job tracker
translates either into these frozen records so rendering stays pure and testable.

`LossPoint` is the tuning layer's own type (`bot.domain.types.LossPoint`), re-exported
here so renderers and their callers share one definition. Its `epoch` is 0-based, as
the API reports it; renderers add one when showing it to people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.types import Checkpoint, DataStats, LossPoint

__all__ = ["Checkpoint", "DataStats", "JobView", "LossPoint"]


@dataclass(frozen=True)
class JobView:
    """Everything a progress message shows about one tuning job.

    `state` is a `bot.domain.types.JobState` value ("queued", "running", "succeeded",
    "failed", "lost", "cancelled"); a `JobState` member works as is, since it is a str.
    `epoch` is 0-based like `LossPoint.epoch`; `percent` runs from 0 to 100.
    """

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
    cancelled_by: str | None = None  # who deleted the model while it was tuning
    # Reported by Vertex AI only (see bot/domain/types.py JobProgress); None/empty otherwise.
    detail_state: str | None = None
    eval_loss: float | None = None
    tuning_started_at: datetime | None = None
    data_stats: DataStats | None = None
    checkpoints: tuple[Checkpoint, ...] = ()
    tuned_model: str | None = None
    # The operator's price per 1M training tokens for this base model (no price is built in).
    price_per_million_tokens: float | None = None
    currency: str = "USD"
