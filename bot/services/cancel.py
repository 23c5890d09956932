"""`/tune cancel`: stop a running job, keep the checkpoints it already has, and record who
stopped it and what it cost so far (issue #22).

Who may cancel: the job's owner, an admin (`TUNEBOT_ADMINS`), or an approver of that job (an
`AuditAction.APPROVE` entry by them whose details name the job: `details["job_id"]`). The
check runs when the command asks to confirm, and again on the click (a button can be forged
or clicked late). One conditional write (`JobRepository.claim_cancel`) makes the cancel
happen once, whatever the clicks and replicas; the job then gets no end-of-job notice: the
job message itself says who cancelled it, which checkpoints stay usable and the cost so far.

The cost so far (`bot/domain/cancelling.py`) is stored in `tuning_job.counted_cost`: for a
cancelled job, the counted cost is what it cost up to the cancel.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from bot.backends.backend import TuningBackend
from bot.domain.audit import AuditAction
from bot.domain.cancelling import cost_so_far
from bot.domain.errors import BackendError
from bot.domain.types import Checkpoint, JobState, checkpoints_from_json
from bot.polling.schedule import progress_changes
from bot.services.models import resolve_model
from bot.storage.models import TuningJob, utcnow
from bot.storage.store import Store

ACTIVE = (JobState.QUEUED.value, JobState.RUNNING.value)
# How far before a job's start its approval is looked for (an approval starts the job at once).
APPROVAL_LOOKBACK = timedelta(days=2)

CancelKind = Literal[
    "ask",  # the command: may cancel, asks to confirm
    "cancelled",  # the click: cancelled now
    "already",  # cancelled before (by `cancelled_by`)
    "ended",  # the job had ended (its `state`)
    "starting",  # still being created: nothing to cancel yet
    "refused",  # the user may not cancel it
    "unsupported",  # the tuning service cannot stop a job without deleting its model
    "failed",  # the tuning service did not cancel it (`reason`)
    "unknown",  # no tunebot job for it (or a button value tunebot never set)
]


@dataclass(frozen=True)
class CancelOutcome:
    """What a `/tune cancel` (or its button) found or did; `job` is the job's row as it is now."""

    kind: CancelKind
    job: TuningJob | None = None
    by: str | None = None  # who cancelled it ("cancelled", "already")
    cost: float | None = None  # the cost so far ("cancelled")
    currency: str = "USD"
    kept: tuple[Checkpoint, ...] = field(default_factory=tuple)  # usable checkpoints ("cancelled")
    reason: str | None = None  # the service's words ("failed", "unsupported")


def approved_by(store: Store, job: TuningJob, user_id: str) -> bool:
    """Whether `user_id` approved this job: an APPROVE entry of theirs naming it."""
    since = job.created_at - APPROVAL_LOOKBACK
    for entry in store.audit.entries(job.team_id, since=since):
        if entry.action != AuditAction.APPROVE or entry.actor_user_id != user_id:
            continue
        named = entry.details.get("job_id")
        if named is not None and str(named) == str(job.id):
            return True
        if job.model_name and entry.details.get("model_name") == job.model_name:
            return True
    return False


def may_cancel(store: Store, job: TuningJob, user_id: str, admins: Collection[str]) -> bool:
    """The job's owner, an admin, or an approver of that job."""
    return user_id == job.owner_user_id or user_id in admins or approved_by(store, job, user_id)


def _ended_or_already(job: TuningJob) -> CancelOutcome | None:
    if job.cancelled_by:
        return CancelOutcome("already", job, by=job.cancelled_by)
    if job.state not in ACTIVE:
        return CancelOutcome("ended", job)
    return None


def describe_job_for_cancel(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    model_text: str,
    admins: Collection[str],
) -> CancelOutcome:
    """Check a `/tune cancel <model>` before asking to confirm (runs in a worker thread)."""
    model_name = resolve_model(store, backend, team_id=team_id, text=model_text)
    job = store.jobs.for_model(model_name)
    if job is None or job.team_id != team_id:
        return CancelOutcome("unknown")
    if not may_cancel(store, job, user_id, admins):
        return CancelOutcome("refused", job)
    found = _ended_or_already(job)
    if found is None and not backend.supports_cancel:
        return CancelOutcome("unsupported", job)
    return found or CancelOutcome("ask", job)


async def _reread(store: Store, job: TuningJob) -> TuningJob:
    fresh: TuningJob | None = await store.run(store.jobs.get, job.id or 0)
    return fresh if fresh is not None else job


def job_id_from_button(value: str) -> int | None:
    """The Cancel button's value is the job's id; anything else was not set by tunebot."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


async def cancel_job(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    job_id: int | None,
    admins: Collection[str],
    currency: str = "USD",
) -> CancelOutcome:
    """Cancel after the confirmation click. Permission is checked again; repeated clicks are
    harmless (the second finds it cancelled)."""
    job = await store.run(store.jobs.get, job_id) if job_id is not None else None
    if job is None or job.team_id != team_id:
        return CancelOutcome("unknown")
    assert job.id is not None
    if not await store.run(may_cancel, store, job, user_id, admins):
        return CancelOutcome("refused", job)
    found = _ended_or_already(job)
    if found is not None:
        return found
    if not job.operation_name or not await store.run(store.jobs.claim_cancel, job.id, user_id):
        current = await _reread(store, job)
        return _ended_or_already(current) or CancelOutcome("starting", current)
    try:
        await backend.cancel(job.operation_name)
    except BackendError as exc:
        await store.run(store.jobs.unclaim_cancel, job.id, user_id)
        current = await _reread(store, job)
        if exc.status == "UNIMPLEMENTED":
            return CancelOutcome("unsupported", current, reason=str(exc))
        if exc.status == "FAILED_PRECONDITION" or exc.not_found:
            return CancelOutcome("ended", current)
        return CancelOutcome("failed", current, reason=str(exc))
    return await _record_cancel(store, backend, job, user_id, currency)


async def _record_cancel(
    store: Store, backend: TuningBackend, job: TuningJob, user_id: str, currency: str
) -> CancelOutcome:
    """After the service took the cancel: read the job once more (its steps done and the
    checkpoints it keeps), store it as cancelled with its cost so far, and append the audit line."""
    assert job.id is not None
    changes: dict[str, object] = {}
    try:
        progress = await backend.poll(job.operation_name or "")
        changes = progress_changes(job, progress)
    except BackendError:
        pass  # the row's last poll stands in for the steps done
    now = utcnow()
    completed = changes.get("completed_steps", job.completed_steps)
    total = changes.get("total_steps", job.total_steps)
    percent = changes.get("percent", job.percent)
    cost = cost_so_far(
        counted_cost=job.counted_cost,
        estimated_cost=job.estimated_cost,
        completed_steps=completed if isinstance(completed, int) else None,
        total_steps=total if isinstance(total, int) else None,
        percent=percent if isinstance(percent, float | int) else None,
    )
    unit = job.cost_currency or currency
    changes.update(state=JobState.CANCELLED.value, finished_at=now, counted_cost=cost, cost_currency=unit)
    changes.pop("error_message", None)  # Vertex's "CANCELLED" says less than "cancelled by @x"
    updated = await store.run(store.jobs.update, job.id, **changes)
    kept = tuple(c for c in checkpoints_from_json(updated.checkpoints) if c.endpoint)
    await store.run(
        store.audit.append,
        team_id=job.team_id,
        actor_user_id=user_id,
        action=AuditAction.CANCEL,
        subject=job.display_name,
        amount=cost,
        currency=unit,
        details={
            "job_id": job.id,
            "model_name": job.model_name,
            "owner": job.owner_user_id,
            "steps_done": completed,
            "percent_done": percent,
            "total_steps": total,
            "checkpoints_kept": [c.checkpoint_id for c in kept],
        },
    )
    return CancelOutcome("cancelled", updated, by=user_id, cost=cost, currency=unit, kept=kept)
