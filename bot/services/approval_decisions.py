"""Deciding approval requests (issue #22): checking a click, the one decision, expiry, the
start an approval led to, and the poll cycle's share (`ApprovalKeeper`). The requests and
their messages are in bot/services/approvals.py."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.approvals import ApprovalState, nonce_matches, parse_button_value
from bot.domain.audit import TUNEBOT_ACTOR, AuditAction
from bot.services.approvals import (
    MESSAGE_LEASE_SECONDS,
    ApprovalPoster,
    aware,
    deliver,
    is_approver,
    starts_of,
)
from bot.storage.models import ApprovalRequest, utcnow
from bot.storage.repositories.approvals import AuditLine
from bot.storage.store import Store

log = logging.getLogger(__name__)

# An approved request whose start is not recorded this long after the approval: the process
# starting it died. Its jobs (started as the requester's since the approval) are adopted, or
# it is marked interrupted, so the requester asks again; it is never started twice.
START_GRACE_SECONDS = 600.0
START_INTERRUPTED = "interrupted"  # `start_error` of such a request (presentation words it)

# ---- clicks


class Refusal(StrEnum):
    FORGED = "forged"  # a value that names no request of this team, or not with its nonce
    NOT_APPROVER = "not_approver"
    NOT_REQUESTER = "not_requester"
    DECIDED = "decided"  # already approved, declined, withdrawn or expired
    EXPIRED = "expired"  # past its time (expired now, by this click)


class ClickRefused(Exception):
    def __init__(self, refusal: Refusal, request: ApprovalRequest | None = None) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.request = request


@dataclass(frozen=True)
class Clicker:
    """Who clicked, in which team and conversation."""

    team_id: str
    user_id: str
    channel_id: str


async def check_click(
    store: Store,
    value: str,
    clicker: Clicker,
    *,
    approvers: frozenset[str] | None,
    now: datetime,
) -> ApprovalRequest:
    """The pending request a click names, or `ClickRefused`. `approvers`: the approvers for an
    Approve or Decline; None for Withdraw (the requester's own button)."""
    parsed = parse_button_value(value)
    if parsed is None:
        raise ClickRefused(Refusal.FORGED)
    request_id, nonce = parsed
    request = await store.run(store.approvals.get, request_id)
    if request is None or request.team_id != clicker.team_id or not nonce_matches(request.nonce, nonce):
        log.warning("refused a click naming approval request %s (forged or tampered)", request_id)
        raise ClickRefused(Refusal.FORGED)
    if approvers is not None and not is_approver(clicker.user_id, clicker.channel_id, approvers):
        raise ClickRefused(Refusal.NOT_APPROVER, request)
    if approvers is None and clicker.user_id != request.requester_user_id:
        raise ClickRefused(Refusal.NOT_REQUESTER, request)
    if request.state != ApprovalState.PENDING:
        raise ClickRefused(Refusal.DECIDED, request)
    if aware(request.expires_at) <= now:
        expired = await expire(store, request_id, now=now)
        raise ClickRefused(Refusal.EXPIRED, expired or request)
    return request


async def decide(
    store: Store,
    request: ApprovalRequest,
    to: ApprovalState,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> ApprovalRequest:
    """The one decision of a pending request, or `ClickRefused(DECIDED)` when another won.
    A decline or withdrawal is audited with it; an approval once its start is known
    (`record_start`)."""
    assert request.id is not None
    action = {ApprovalState.DECLINED: AuditAction.DECLINE, ApprovalState.WITHDRAWN: AuditAction.WITHDRAW}
    audit = None
    if to in action:
        details: dict[str, object] = {"requester": request.requester_user_id}
        if reason:
            details["reason"] = reason
        audit = AuditLine(action[to], actor, details)
    won = await store.run(
        store.approvals.decide, request.id, to, actor=actor, now=now, reason=reason, audit=audit
    )
    if won is None:
        current = await store.run(store.approvals.get, request.id)
        if current is not None and current.state == ApprovalState.PENDING:
            raise ClickRefused(Refusal.EXPIRED, await expire(store, request.id, now=now) or current)
        raise ClickRefused(Refusal.DECIDED, current or request)
    return won


async def expire(store: Store, request_id: int, *, now: datetime) -> ApprovalRequest | None:
    """Expire a pending request past its time (audited); None when it was not."""
    request = await store.run(store.approvals.get, request_id)
    if request is None or request.state != ApprovalState.PENDING or aware(request.expires_at) > now:
        return None
    audit = AuditLine(AuditAction.EXPIRE, TUNEBOT_ACTOR, {"requester": request.requester_user_id})
    return await store.run(
        store.approvals.decide,
        request_id,
        ApprovalState.EXPIRED,
        actor=TUNEBOT_ACTOR,
        now=now,
        audit=audit,
        unexpired=False,
    )


async def record_start(
    store: Store,
    request: ApprovalRequest,
    *,
    approver: str,
    job_ids: list[int],
    error: str | None,
    now: datetime,
    model_names: list[str] | None = None,
) -> ApprovalRequest:
    """An approved request's start: its jobs (or why it failed), and the audit line of the
    approval, dated when it was decided, naming the job (`job_id`, `model_name`: what lets the
    approver cancel what they approved, bot/services/cancel.py). Each job's `start` line, by
    the requester, is written by `start_job` itself."""
    assert request.id is not None
    approve: dict[str, object] = {"requester": request.requester_user_id, "channel_id": request.channel_id}
    if job_ids:
        approve["job_id"] = job_ids[0]
        approve["job_ids"] = job_ids
    if model_names:
        approve["model_name"] = model_names[0]
    if error:
        approve["start_error"] = error
    line = AuditLine(AuditAction.APPROVE, approver, approve, at=request.decided_at)
    recorded = await store.run(
        store.approvals.record_started, request.id, job_ids=job_ids, error=error, audits=[line], now=now
    )
    return recorded or request


# ---- every poll cycle


@dataclass
class ApprovalKeeper:
    """The poll cycle's share (`Poller.each_cycle`): expire requests past their time, then
    post or edit the messages a failure or a crash left undone."""

    store: Store
    poster: ApprovalPoster
    lease_seconds: float = MESSAGE_LEASE_SECONDS
    clock: Callable[[], datetime] = field(default=utcnow)

    start_grace_seconds: float = START_GRACE_SECONDS

    async def run_due(self) -> None:
        now = self.clock()
        for request_id in await self.store.run(self.store.approvals.expired_ids, now):
            if await expire(self.store, request_id, now=now) is not None:
                log.info("approval request %s expired", request_id)
        before = now - timedelta(seconds=self.start_grace_seconds)
        for request in await self.store.run(self.store.approvals.stalled_starts, before):
            await self._settle_stalled(request, now)
        for request_id in await self.store.run(self.store.approvals.with_message_work, now):
            await deliver(self.store, self.poster, request_id, now=now, lease_seconds=self.lease_seconds)

    async def _settle_stalled(self, request: ApprovalRequest, now: datetime) -> None:
        """An approved request whose start was never recorded: adopt its jobs or mark it."""
        assert request.decided_at is not None
        found = await self.store.run(
            self.store.approvals.jobs_since,
            request.team_id,
            request.requester_user_id,
            request.channel_id,
            [start.dataset_id for start in starts_of(request)],
            request.decided_at,
        )
        log.warning("approval request %s: its start was interrupted (jobs found: %s)", request.id, found)
        await record_start(
            self.store,
            request,
            approver=request.decided_by or TUNEBOT_ACTOR,
            job_ids=found,
            error=None if found else START_INTERRUPTED,
            now=now,
        )
