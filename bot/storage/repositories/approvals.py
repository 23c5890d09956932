"""Approval requests and their messages (issue #22).

A request leaves `pending` once: `decide` is one conditional UPDATE (`WHERE state =
'pending'`), so of two clicks, two Slack retries or two replicas only one wins, on SQLite and
PostgreSQL alike; the audit line of a decline, withdrawal or expiry is written in the same
transaction. A message is posted by whoever claims it (`claim_post`, a conditional UPDATE
with a short lease), and edited once per decision (`claim_show`). Each public method is one
transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import col, select

from bot.domain.approvals import ApprovalState
from bot.domain.audit import AuditAction
from bot.storage.engine import Repository
from bot.storage.models import ApprovalMessage, ApprovalRequest, AuditEvent, TuningJob

PENDING = ApprovalState.PENDING.value


@dataclass(frozen=True)
class AuditLine:
    """An audit line written with a decision, in its transaction."""

    action: AuditAction
    actor_user_id: str
    details: dict[str, Any]
    at: datetime | None = None  # when it happened, if not when it is written


def _audit(request: ApprovalRequest, line: AuditLine, at: datetime) -> AuditEvent:
    return AuditEvent(
        team_id=request.team_id,
        at=line.at or at,
        actor_user_id=line.actor_user_id,
        action=line.action.value,
        subject=f"request {request.id}",
        amount=request.amount,
        currency=request.currency,
        details=json.dumps(line.details, sort_keys=True, ensure_ascii=False) if line.details else None,
    )


class ApprovalRepository(Repository):
    def create(
        self, request: ApprovalRequest, targets: list[tuple[str, str]], audit: AuditLine
    ) -> ApprovalRequest:
        """Store a request, its messages to come (`targets`: (role, user or channel id)) and
        the audit line of the request, at once."""
        with self.session() as session:
            session.add(request)
            session.flush()
            assert request.id is not None
            for role, target in targets:
                session.add(ApprovalMessage(request_id=request.id, role=role, target=target))
            session.add(_audit(request, audit, request.created_at))
            session.commit()
            session.refresh(request)
            return request

    def get(self, request_id: int) -> ApprovalRequest | None:
        with self.session() as session:
            return session.get(ApprovalRequest, request_id)

    def messages(self, request_id: int) -> list[ApprovalMessage]:
        with self.session() as session:
            query = select(ApprovalMessage).where(ApprovalMessage.request_id == request_id)
            return list(session.exec(query.order_by(col(ApprovalMessage.id))).all())

    def pending(self, team_id: str) -> list[ApprovalRequest]:
        with self.session() as session:
            query = select(ApprovalRequest).where(
                ApprovalRequest.team_id == team_id, ApprovalRequest.state == PENDING
            )
            return list(session.exec(query.order_by(col(ApprovalRequest.id))).all())

    def decide(
        self,
        request_id: int,
        to: ApprovalState,
        *,
        actor: str,
        now: datetime,
        reason: str | None = None,
        audit: AuditLine | None = None,
        unexpired: bool = True,
    ) -> ApprovalRequest | None:
        """Move a pending request to `to` (with who decided, when, why) and write `audit` with
        it; None when it was no longer pending (or, with `unexpired`, had expired): someone
        else decided first."""
        conditions = [col(ApprovalRequest.id) == request_id, col(ApprovalRequest.state) == PENDING]
        if unexpired:
            conditions.append(col(ApprovalRequest.expires_at) > now)
        with self.session() as session:
            result = session.execute(
                update(ApprovalRequest)
                .where(*conditions)
                .values(state=to.value, decided_by=actor, decided_at=now, reason=reason, updated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return None
            request = session.get(ApprovalRequest, request_id)
            assert request is not None
            session.refresh(request)
            if audit is not None:
                session.add(_audit(request, audit, now))
            session.commit()
            return request

    def record_started(
        self,
        request_id: int,
        *,
        job_ids: list[int],
        error: str | None,
        audits: list[AuditLine],
        now: datetime,
    ) -> ApprovalRequest | None:
        """What an approved request's start did (its jobs, or why it failed), with its audit
        lines; recorded once (None when it already was)."""
        with self.session() as session:
            result = session.execute(
                update(ApprovalRequest)
                .where(
                    col(ApprovalRequest.id) == request_id,
                    col(ApprovalRequest.state) == ApprovalState.APPROVED.value,
                    col(ApprovalRequest.job_ids).is_(None),
                    col(ApprovalRequest.start_error).is_(None),
                )
                .values(job_ids=json.dumps(job_ids) if job_ids else None, start_error=error, updated_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return None
            request = session.get(ApprovalRequest, request_id)
            assert request is not None
            session.refresh(request)
            for line in audits:
                session.add(_audit(request, line, now))
            session.commit()
            return request

    def stalled_starts(self, before: datetime, limit: int = 20) -> list[ApprovalRequest]:
        """Approved before `before` and no start recorded: the process starting them died."""
        with self.session() as session:
            query = (
                select(ApprovalRequest)
                .where(
                    ApprovalRequest.state == ApprovalState.APPROVED.value,
                    col(ApprovalRequest.job_ids).is_(None),
                    col(ApprovalRequest.start_error).is_(None),
                    col(ApprovalRequest.decided_at) < before,
                )
                .order_by(col(ApprovalRequest.id))
                .limit(limit)
            )
            return list(session.exec(query).all())

    def jobs_since(
        self, team_id: str, owner: str, channel_id: str, dataset_ids: list[int], since: datetime
    ) -> list[int]:
        """The ids of the jobs `owner` got in `channel_id` on those datasets since `since`."""
        with self.session() as session:
            query = (
                select(TuningJob.id)
                .where(
                    TuningJob.team_id == team_id,
                    TuningJob.owner_user_id == owner,
                    TuningJob.channel_id == channel_id,
                    col(TuningJob.dataset_id).in_(dataset_ids),
                    col(TuningJob.created_at) >= since,
                )
                .order_by(col(TuningJob.id))
            )
            return [int(i) for i in session.exec(query).all() if i is not None]

    def expired_ids(self, now: datetime, limit: int = 50) -> list[int]:
        """Pending requests past their time."""
        with self.session() as session:
            query = (
                select(ApprovalRequest.id)
                .where(ApprovalRequest.state == PENDING, col(ApprovalRequest.expires_at) <= now)
                .order_by(col(ApprovalRequest.id))
                .limit(limit)
            )
            return [int(i) for i in session.exec(query).all() if i is not None]

    def with_message_work(self, now: datetime, limit: int = 50) -> list[int]:
        """Requests with a message to post (still pending) or to edit (decided), not held."""
        free = or_(
            col(ApprovalMessage.lease_expires_at).is_(None), col(ApprovalMessage.lease_expires_at) < now
        )
        to_post = and_(col(ApprovalMessage.state) != "posted", col(ApprovalRequest.state) == PENDING)
        to_show = and_(
            col(ApprovalMessage.state) == "posted", col(ApprovalMessage.shown) != col(ApprovalRequest.state)
        )
        with self.session() as session:
            query = (
                select(ApprovalMessage.request_id)
                .join(ApprovalRequest, col(ApprovalRequest.id) == col(ApprovalMessage.request_id))
                .where(free, or_(to_post, to_show))
                .distinct()
                .limit(limit)
            )
            return sorted(int(i) for i in session.exec(query).all())

    # ---- a message: posted once, edited once per decision

    def claim_post(self, message_id: int, *, now: datetime, lease_seconds: float) -> ApprovalMessage | None:
        """Hold a message that is not posted yet (new, or posting whose holder's lease ran out);
        the copy returned says the state it was in (`posting`: look for it before posting)."""
        free = or_(
            col(ApprovalMessage.lease_expires_at).is_(None), col(ApprovalMessage.lease_expires_at) < now
        )
        return self._claim(message_id, and_(col(ApprovalMessage.state) != "posted", free), now, lease_seconds)

    def claim_show(
        self, message_id: int, state: str, *, now: datetime, lease_seconds: float
    ) -> ApprovalMessage | None:
        """Hold a posted message that does not show `state` yet."""
        free = or_(
            col(ApprovalMessage.lease_expires_at).is_(None), col(ApprovalMessage.lease_expires_at) < now
        )
        wanted = and_(col(ApprovalMessage.state) == "posted", col(ApprovalMessage.shown) != state, free)
        return self._claim(message_id, wanted, now, lease_seconds)

    def _claim(
        self, message_id: int, condition: Any, now: datetime, lease_seconds: float
    ) -> ApprovalMessage | None:
        with self.session() as session:
            before = session.get(ApprovalMessage, message_id)
            if before is None:
                return None
            was = ApprovalMessage.model_validate(before.model_dump())
            result = session.execute(
                update(ApprovalMessage)
                .where(col(ApprovalMessage.id) == message_id, condition)
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()
                return None
            session.commit()
            return was

    def update_message(self, message_id: int, **changes: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(ApprovalMessage).where(col(ApprovalMessage.id) == message_id).values(**changes)
            )
