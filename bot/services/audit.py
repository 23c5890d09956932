"""The audit log's service side (issue #22): what `/tune delete` appends, and a month of the
log for `/tune audit` (admins only). Nothing here changes or removes an entry: the log is
append-only, and there is no command to edit it."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.audit import AuditAction, AuditEntry
from bot.domain.cancelling import cost_so_far
from bot.storage.models import TuningJob
from bot.storage.store import Store

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    """A calendar month in UTC (tunebot knows no workspace time zone; it shows times in UTC)."""

    year: int
    month: int

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        if self.month == 12:
            return datetime(self.year + 1, 1, 1, tzinfo=UTC)
        return datetime(self.year, self.month + 1, 1, tzinfo=UTC)


def parse_month(text: str, now: datetime) -> Month | None:
    """`YYYY-MM`, or nothing for the current month (of `now`, in UTC); None if it is not one."""
    text = text.strip()
    if not text:
        current = now.astimezone(UTC)
        return Month(current.year, current.month)
    found = _MONTH.match(text)
    if found is None:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or not 2000 <= year <= 9999:
        return None
    return Month(year, month)


@dataclass(frozen=True)
class AuditMonth:
    month: Month
    entries: list[AuditEntry]


def audit_month(store: Store, *, team_id: str, month: Month) -> AuditMonth:
    return AuditMonth(month, store.audit.entries(team_id, since=month.start, until=month.end))


def may_read_audit(user_id: str, admins: Collection[str]) -> bool:
    return user_id in admins


def record_delete(
    store: Store,
    *,
    team_id: str,
    user_id: str,
    model_name: str,
    cancelled: list[TuningJob],
    currency: str = "USD",
) -> None:
    """The audit line of a `/tune delete`: the model, and what its job cost (so far, when the
    delete stopped it while tuning; else its counted cost, or its estimate, when known)."""
    job = cancelled[0] if cancelled else store.jobs.for_model(model_name)
    amount: float | None = None
    unit = currency
    details: dict[str, object] = {"model_name": model_name}
    if job is not None:
        unit = job.cost_currency or currency
        details.update(job_id=job.id, owner=job.owner_user_id, stopped_tuning=bool(cancelled))
        if cancelled:
            amount = cost_so_far(
                counted_cost=job.counted_cost,
                estimated_cost=job.estimated_cost,
                completed_steps=job.completed_steps,
                total_steps=job.total_steps,
                percent=job.percent,
            )
        else:
            amount = job.counted_cost if job.counted_cost is not None else job.estimated_cost
    store.audit.append(
        team_id=team_id,
        actor_user_id=user_id,
        action=AuditAction.DELETE,
        subject=job.display_name if job is not None else model_name,
        amount=amount,
        currency=unit if amount is not None else None,
        details=details,
    )
