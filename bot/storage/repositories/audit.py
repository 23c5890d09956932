"""The audit log: appended to, read, never changed (issue #22).

Each public method is one transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.domain.audit import AuditAction, AuditEntry
from bot.storage.engine import Repository
from bot.storage.models import AuditEvent, utcnow


class AuditRepository(Repository):
    def append(
        self,
        *,
        team_id: str,
        actor_user_id: str,
        action: AuditAction,
        subject: str = "",
        amount: float | None = None,
        currency: str | None = None,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> None:
        with self.session() as session:
            session.add(
                AuditEvent(
                    team_id=team_id,
                    at=at or utcnow(),
                    actor_user_id=actor_user_id,
                    action=action.value,
                    subject=subject[:300],
                    amount=amount,
                    currency=currency,
                    details=json.dumps(details, sort_keys=True, ensure_ascii=False) if details else None,
                )
            )
            session.commit()

    def entries(
        self, team_id: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[AuditEntry]:
        """The team's audit lines, oldest first, `since` ≤ at < `until`."""
        query = select(AuditEvent).where(AuditEvent.team_id == team_id)
        if since is not None:
            query = query.where(col(AuditEvent.at) >= since)
        if until is not None:
            query = query.where(col(AuditEvent.at) < until)
        with self.session() as session:
            rows = session.exec(query.order_by(col(AuditEvent.at), col(AuditEvent.id))).all()
        return [
            AuditEntry(
                at=row.at,
                actor_user_id=row.actor_user_id,
                action=AuditAction(row.action),
                subject=row.subject,
                amount=row.amount,
                currency=row.currency,
                details=json.loads(row.details) if row.details else {},
            )
            for row in rows
        ]
