"""What a job's messages show, as data: a stored job -> the record its messages are drawn from.

The Gemini API and Vertex AI report tuning progress differently; the poller translates
either into these frozen records (`job_view`), and the presentation layer draws them
(`bot/presentation/progress.py`, through the reporter port), so what is shown stays pure and
testable.

`LossPoint` is the tuning layer's own type (`bot.domain.types.LossPoint`), re-exported
here so the chart and its callers share one definition. Its `epoch` is 0-based, as
the API reports it; renderers add one when showing it to people.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.pricing import Price, price_of
from bot.domain.types import Checkpoint, DataStats, LossPoint, SentHyperparameters, checkpoints_from_json
from bot.storage.models import TuningJob

__all__ = ["Checkpoint", "DataStats", "JobView", "LossPoint", "job_view"]

# What a job's tuning service decides for itself, by the service the job records
# (`TuningJob.backend`): Vertex AI chooses its own batch size, so showing ours would mislead.
CHOOSES_OWN_BATCH_SIZE = frozenset({"vertex"})


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
    cancelled_by: str | None = None  # who stopped it: `/tune cancel`, or deleting the model
    model_deleted: bool = False  # stopped by deleting its model (else `/tune cancel`)
    cost_so_far: float | None = None  # a job stopped with `/tune cancel`: what it cost (counted_cost)
    # Reported by Vertex AI only (see bot/domain/types.py JobProgress); None/empty otherwise.
    detail_state: str | None = None
    eval_loss: float | None = None
    tuning_started_at: datetime | None = None
    data_stats: DataStats | None = None
    checkpoints: tuple[Checkpoint, ...] = ()
    tuned_model: str | None = None
    # The price per 1M training tokens for this base model (the operator's setting, else
    # tunebot's price table), and all the prices with their source (bot.domain.pricing).
    price_per_million_tokens: float | None = None
    currency: str = "USD"
    price: Price | None = None
    # The job's cost columns (see TuningJob): the estimate made at the start, and the cost
    # counted from Vertex's billable tokens (the message computes it from `data_stats`).
    estimated_tokens: int | None = None
    estimated_cost: float | None = None
    counted_tokens: int | None = None
    counted_cost: float | None = None
    cost_currency: str | None = None
    # What a Vertex AI job received, read back from the job (then `batch_size` and
    # `learning_rate` are None: Vertex takes neither for Gemini models).
    hyperparameters: SentHyperparameters | None = None
    # A Vertex job stored before its hyperparameters were: the multiplier tunebot then sent
    # for its `learning_rate` (learning_rate / 0.001).
    legacy_multiplier: float | None = None
    # Continued from another tuned model: its name at the start, and the checkpoint.
    parent_name: str | None = None
    parent_checkpoint: str | None = None


# Before issue #20, tunebot sent Vertex `learning_rate / 0.001` as the learning-rate multiplier.
LEGACY_REFERENCE_RATE = 0.001


def job_view(
    job: TuningJob,
    now: datetime,
    dataset_name: str | None = None,
    prices: Mapping[str, float] | None = None,
    currency: str = "USD",
    *,
    cancelled_by: str | None = None,  # who deleted the model while it was tuning
) -> JobView:
    sent = SentHyperparameters.from_json(job.hyperparameters)
    price = price_of(job.base_model, prices, currency, vertex=job.backend == "vertex")
    legacy = job.backend == "vertex" and sent is None and job.learning_rate > 0
    return JobView(
        job_id=job.id or 0,
        display_name=job.display_name,
        model_name=job.model_name or "",
        owner_user_id=job.owner_user_id,
        base_model=job.base_model,
        state=job.state,
        percent=job.percent,
        completed_steps=job.completed_steps,
        total_steps=job.total_steps,
        epoch=job.epoch,
        epoch_count=job.epoch_count or None,  # 0: Vertex chooses, and has not said yet
        mean_loss=job.mean_loss,
        started_at=job.created_at,
        now=now,
        error_message=job.error_message,
        dataset_name=dataset_name,
        batch_size=None if job.backend in CHOOSES_OWN_BATCH_SIZE else job.batch_size,
        learning_rate=None if sent is not None or legacy or not job.learning_rate else job.learning_rate,
        cancelled_by=cancelled_by or job.cancelled_by,
        model_deleted=cancelled_by is not None,
        cost_so_far=job.counted_cost if job.cancelled_by else None,
        detail_state=job.detail_state,
        eval_loss=job.eval_loss,
        tuning_started_at=job.tuning_started_at,
        data_stats=DataStats.from_json(job.data_stats),
        checkpoints=checkpoints_from_json(job.checkpoints),
        tuned_model=job.tuned_model,
        price_per_million_tokens=float(price.training) if price and price.training is not None else None,
        currency=(
            job.cost_currency
            if job.cancelled_by and job.cost_currency
            else (price.currency if price is not None else currency)
        ),
        price=price,
        estimated_tokens=job.estimated_tokens,
        estimated_cost=job.estimated_cost,
        counted_tokens=job.counted_tokens,
        counted_cost=job.counted_cost,
        cost_currency=job.cost_currency,
        hyperparameters=sent,
        legacy_multiplier=round(job.learning_rate / LEGACY_REFERENCE_RATE, 6) if legacy else None,
        parent_name=job.parent_name or (job.parent_model.rsplit("/", 1)[-1] if job.parent_model else None),
        parent_checkpoint=job.parent_checkpoint,
    )
