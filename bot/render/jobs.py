"""A stored tuning job -> the record the renderers draw."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from bot.domain.pricing import price_for
from bot.domain.types import DataStats, checkpoints_from_json
from bot.render.model import JobView
from bot.storage.models import TuningJob


def job_view(
    job: TuningJob,
    now: datetime,
    dataset_name: str | None = None,
    prices: Mapping[str, float] | None = None,
    currency: str = "USD",
    *,
    cancelled_by: str | None = None,
) -> JobView:
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
        epoch_count=job.epoch_count,
        mean_loss=job.mean_loss,
        started_at=job.created_at,
        now=now,
        error_message=job.error_message,
        dataset_name=dataset_name,
        # Vertex AI chooses its own batch size: showing ours would mislead.
        batch_size=None if job.backend == "vertex" else job.batch_size,
        learning_rate=job.learning_rate,
        cancelled_by=cancelled_by,
        detail_state=job.detail_state,
        eval_loss=job.eval_loss,
        tuning_started_at=job.tuning_started_at,
        data_stats=DataStats.from_json(job.data_stats),
        checkpoints=checkpoints_from_json(job.checkpoints),
        tuned_model=job.tuned_model,
        price_per_million_tokens=price_for(prices or {}, job.base_model),
        currency=currency,
    )
