"""Pure scheduling rules: what a poll changed, and whether the job moved (how soon to poll
it again is `bot.domain.backoff.Backoff`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.pricing import counted_cost, money, price_of
from bot.domain.types import (
    Checkpoint,
    DataStats,
    JobProgress,
    JobState,
    checkpoints_from_json,
    checkpoints_json,
)
from bot.storage.models import TuningJob


def progress_changes(job: TuningJob, progress: JobProgress) -> dict[str, Any]:
    """The job columns a poll result changes (empty when nothing moved)."""
    new: dict[str, Any] = {
        "state": progress.state.value,
        "percent": round(progress.percent, 2),
        "completed_steps": progress.completed_steps,
        "total_steps": progress.total_steps if progress.total_steps is not None else job.total_steps,
        "epoch": progress.epoch,
        "mean_loss": progress.mean_loss,
        "error_message": progress.error_message,
    }
    if progress.state == JobState.SUCCEEDED and new["completed_steps"] is None:
        new["completed_steps"] = new["total_steps"]
    new.update(reported_changes(job, progress))
    return {key: value for key, value in new.items() if getattr(job, key) != value}


def reported_changes(job: TuningJob, progress: JobProgress) -> dict[str, Any]:
    """The columns for what only some services report (Vertex AI): each is kept once known."""
    new: dict[str, Any] = {"detail_state": progress.detail_state}
    if progress.eval_loss is not None:
        new["eval_loss"] = progress.eval_loss
    if progress.started_at is not None:
        new["tuning_started_at"] = progress.started_at
    if progress.error_code is not None:
        new["error_code"] = progress.error_code
    if progress.tuned_model is not None:
        new["tuned_model"] = progress.tuned_model
    if progress.data_stats is not None:
        new["data_stats"] = progress.data_stats.to_json()
    if progress.hyperparameters is not None:
        new["hyperparameters"] = progress.hyperparameters.to_json()
        if progress.hyperparameters.epoch_count is not None:
            new["epoch_count"] = progress.hyperparameters.epoch_count
    if progress.checkpoints:
        new["checkpoints"] = checkpoints_json(
            with_known_eval_loss(progress.checkpoints, checkpoints_from_json(job.checkpoints))
        )
    return new


def counted_changes(
    job: TuningJob, changes: Mapping[str, Any], prices: Mapping[str, float], currency: str
) -> dict[str, Any]:
    """The counted cost columns, once Vertex AI has reported its billable token count and
    the epochs are known (from the job and this poll's `changes`): `counted_tokens` is
    the billable training tokens × epochs, `counted_cost` their price (None without one)."""
    stats = DataStats.from_json(changes.get("data_stats", job.data_stats))
    epochs = changes.get("epoch_count", job.epoch_count)
    if stats is None or stats.billable_tokens is None or not epochs:
        return {}
    price = price_of(job.base_model, prices, currency, vertex=job.backend == "vertex")
    cost = counted_cost(job.base_model, stats.billable_tokens, epochs, price, currency)
    new: dict[str, Any] = {"counted_tokens": cost.tokens, "counted_cost": money(cost.amount)}
    if cost.amount is not None:
        new["cost_currency"] = cost.currency
    return {key: value for key, value in new.items() if getattr(job, key) != value}


def with_known_eval_loss(fresh: tuple[Checkpoint, ...], known: tuple[Checkpoint, ...]) -> list[Checkpoint]:
    """`fresh` checkpoints, keeping an eval loss learnt earlier (from the chart's points)."""
    losses = {c.checkpoint_id: c.eval_loss for c in known if c.eval_loss is not None}
    return [
        c
        if c.eval_loss is not None or c.checkpoint_id not in losses
        else Checkpoint(c.checkpoint_id, c.epoch, c.step, c.endpoint, losses[c.checkpoint_id])
        for c in fresh
    ]


def moved(changes: dict[str, Any]) -> bool:
    return bool({"state", "percent", "completed_steps", "detail_state"} & changes.keys())
