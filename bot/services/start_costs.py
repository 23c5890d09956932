"""A job's cost at its start: the estimate written to its row (`TuningJob.estimated_*`) and
the audit line of the start (issue #22). Called by `start_job`; no Slack text."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.domain.audit import AuditAction
from bot.domain.errors import StorageUnavailable
from bot.domain.pricing import CostEstimate, money
from bot.storage.engine import writes_or_unavailable
from bot.storage.models import TuningJob
from bot.storage.store import Store

log = logging.getLogger(__name__)


def with_epochs(cost: CostEstimate | None, epochs: int | None) -> CostEstimate | None:
    """`cost` for `epochs` once they are known (a given count, or what Vertex AI chose)."""
    if cost is None or cost.epochs is not None or not epochs:
        return cost
    return replace(cost, epochs=epochs)


def cost_columns(cost: CostEstimate | None) -> dict[str, Any]:
    """The job row's estimate columns: tokens and amount (None while the epochs or the
    price are unknown: unknown, never zero) and the currency of the amount."""
    if cost is None:
        return {}
    amount = money(cost.amount)
    return {
        "estimated_tokens": cost.tokens,
        "estimated_cost": amount,
        "cost_currency": cost.currency if amount is not None else None,
    }


def record_start_cost(
    store: Store, job: TuningJob, cost: CostEstimate | None, *, actor_user_id: str
) -> TuningJob:
    """After the service took the job: the estimate with the epochs Vertex chose, when it
    chose them, and the audit line `start` (actor: the requester; subject: the job's name
    and id; amount: the estimated cost). An audit write that fails is logged: the job runs."""
    assert job.id is not None
    estimate = with_epochs(cost, job.epoch_count or None)
    if estimate is not cost and estimate is not None:
        try:
            with writes_or_unavailable():
                job = store.jobs.update(job.id, **cost_columns(estimate))
        except StorageUnavailable as exc:
            log.error("job %s: could not record its estimate: %s", job.id, exc)
    details: dict[str, Any] = {
        "base_model": job.base_model,
        "backend": job.backend,
        "channel_id": job.channel_id,
        "model_name": job.model_name,
        "epochs": job.epoch_count or None,
        "estimated_tokens": estimate.tokens if estimate is not None else None,
    }
    if estimate is not None and estimate.price is not None:
        details["price_source"] = estimate.price.source
        details["price_per_1m_training_tokens"] = str(estimate.price.training)
    amount = money(estimate.amount) if estimate is not None else None
    try:
        with writes_or_unavailable():
            store.audit.append(
                team_id=job.team_id,
                actor_user_id=actor_user_id,
                action=AuditAction.START,
                subject=f"{job.display_name} (job {job.id})",
                amount=amount,
                currency=estimate.currency if estimate is not None and amount is not None else None,
                details={k: v for k, v in details.items() if v is not None},
            )
    except StorageUnavailable as exc:
        log.error("job %s: could not append its audit line: %s", job.id, exc)
    return job
