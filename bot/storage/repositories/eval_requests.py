"""`/tune eval` requests and the leases of the processes running them (the same pattern as
tuning jobs: a claim with `FOR UPDATE SKIP LOCKED` on PostgreSQL, writes fenced by the lease).

Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, select

from bot.domain.states import SETTLED_EVAL_REQUEST_STATES
from bot.storage.engine import Repository
from bot.storage.models import EvalRequest, utcnow

# The claim query's NOT IN list, in a fixed order.
SETTLED_STATES = tuple(sorted(SETTLED_EVAL_REQUEST_STATES))


class EvalRequestRepository(Repository):
    def create(self, request: EvalRequest, *, owner: str, now: datetime, lease_seconds: float) -> EvalRequest:
        """Store a new request, already leased to `owner` (the process about to run it)."""
        request.lease_owner = owner
        request.lease_expires_at = now + timedelta(seconds=lease_seconds)
        with self.session() as session:
            session.add(request)
            session.commit()
            session.refresh(request)
            return request

    def get(self, request_id: int) -> EvalRequest | None:
        with self.session() as session:
            return session.get(EvalRequest, request_id)

    def pending(self) -> list[EvalRequest]:
        """The requests with something left to do, oldest first."""
        with self.session() as session:
            query = (
                select(EvalRequest)
                .where(col(EvalRequest.state).not_in(SETTLED_STATES))
                .order_by(col(EvalRequest.id))
            )
            return list(session.exec(query).all())

    def claim(
        self,
        *,
        owner: str,
        now: datetime,
        lease_seconds: float,
        limit: int = 20,
        request_ids: Sequence[int] | None = None,
    ) -> list[EvalRequest]:
        """Lease to `owner` the requests with something left to do that no live process holds
        (a lease that expired, its process died, makes a request claimable again)."""
        free = or_(col(EvalRequest.lease_owner).is_(None), col(EvalRequest.lease_expires_at) < now)
        with self.session() as session:
            query = (
                select(EvalRequest)
                .where(col(EvalRequest.state).not_in(SETTLED_STATES), free)
                .order_by(col(EvalRequest.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            if request_ids is not None:
                query = query.where(col(EvalRequest.id).in_(list(request_ids)))
            requests = list(session.exec(query).all())
            expires = now + timedelta(seconds=lease_seconds)
            if requests:
                # The lease is checked again in the UPDATE (SQLite has no FOR UPDATE).
                won = set(
                    session.execute(
                        update(EvalRequest)
                        .where(col(EvalRequest.id).in_([r.id for r in requests]), free)
                        .values(lease_owner=owner, lease_expires_at=expires)
                        .returning(col(EvalRequest.id))
                    ).scalars()
                )
                requests = [r for r in requests if r.id in won]
            session.commit()
        for request in requests:  # detached copies, now matching the rows
            request.lease_owner = owner
            request.lease_expires_at = expires
        return requests

    def update_leased(self, request_id: int, owner: str, **changes: Any) -> bool:
        """Write `changes` only if `owner` still holds the request's lease (a fenced update)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                update(EvalRequest)
                .where(col(EvalRequest.id) == request_id, col(EvalRequest.lease_owner) == owner)
                .values(updated_at=utcnow(), **changes)
            )
            return bool(result.rowcount)

    def release(self, request_id: int, owner: str) -> bool:
        """Give the lease up (the next cycle of any process may take the request)."""
        return self.update_leased(request_id, owner, lease_owner=None, lease_expires_at=None)
