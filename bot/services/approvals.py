"""Approvals (issue #22): a start over a limit is not sent to Google; it becomes a request the
approvers decide once, with Approve or Decline, and the requester may withdraw.

`request_approval` stores the request (state pending, its messages to come, the audit line)
and delivers its messages through an `ApprovalPoster` (Slack's side: bot/slack/approvals.py):
one to each approver (a DM) or one in the approvers' channel, and one to the requester (a DM
with a Withdraw button). Every message is posted exactly once (claimed, written `posting`
before the post, looked for by its metadata after an ambiguous failure or a crash) and edited
once per decision. A click is checked here (`check_click`): the request it names, its nonce,
the team, who clicked and whether it is still pending; the decision itself is one conditional
UPDATE (`decide`), so only one click, replica or Slack retry wins. `ApprovalKeeper` runs in
every poll cycle: it expires requests past TUNEBOT_APPROVAL_HOURS and posts or edits what a
failure left undone. No Slack text here: results and refusal reasons only."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from bot.domain.approvals import (
    ApprovalStart,
    ApprovalState,
    button_value,
    nonce_matches,
    parse_button_value,
    starts_from_json,
    starts_to_json,
    total_estimate,
)
from bot.domain.audit import TUNEBOT_ACTOR, AuditAction
from bot.domain.errors import UserError
from bot.domain.spend import StartDecision
from bot.storage.models import ApprovalMessage, ApprovalRequest, utcnow
from bot.storage.repositories.approvals import AuditLine
from bot.storage.store import Store

log = logging.getLogger(__name__)

APPROVER = "approver"
REQUESTER = "requester"
MESSAGE_LEASE_SECONDS = 60.0
# An approved request whose start is not recorded this long after the approval: the process
# starting it died. Its jobs (started as the requester's since the approval) are adopted, or
# it is marked interrupted, so the requester asks again; it is never started twice.
START_GRACE_SECONDS = 600.0
START_INTERRUPTED = "interrupted"  # `start_error` of such a request (presentation words it)


class NoApprovers(UserError):
    """Neither TUNEBOT_APPROVERS nor TUNEBOT_ADMINS names anyone to ask."""

    def __init__(self) -> None:
        super().__init__(
            "This start needs an approval, but no one can give it: ask an admin to set "
            "`TUNEBOT_APPROVERS` (user ids, or a channel id)."
        )


class ApprovalPoster(Protocol):
    """The chat side of a request's messages (Slack: `bot.slack.approvals.SlackApprovalPoster`).
    A failure is a `bot.polling.ports.ReporterError` (ambiguous when Slack may have posted)."""

    async def open(self, message: ApprovalMessage) -> str:
        """The conversation a message goes to: a channel as is, a user's DM opened."""
        ...

    async def find(self, request: ApprovalRequest, message: ApprovalMessage) -> str | None:
        """The ts of the request's message in `message.channel_id`, if Slack has it."""
        ...

    async def post(self, request: ApprovalRequest, message: ApprovalMessage) -> str:
        """Post it (an ambiguous failure is looked for first, by `find`); returns its ts."""
        ...

    async def show(self, request: ApprovalRequest, message: ApprovalMessage) -> None:
        """Edit a posted message to show the request's state (and, to the requester, say in
        its thread what became of it: once, looked for first)."""
        ...


def approver_set(approvers: Collection[str], admins: Collection[str]) -> frozenset[str]:
    """Who approves: TUNEBOT_APPROVERS, else the admins."""
    return frozenset(approvers) or frozenset(admins)


def is_channel_id(value: str) -> bool:
    return value[:1] in ("C", "G")


def approver_targets(approvers: frozenset[str]) -> list[str]:
    """Where a request goes: the approvers' channel (the first, if several are named), else
    each approver's DM."""
    channels = sorted(a for a in approvers if is_channel_id(a))
    return channels[:1] if channels else sorted(approvers)


def is_approver(user_id: str, clicked_in: str, approvers: frozenset[str]) -> bool:
    """A listed approver, or (approvers named by a channel) anyone clicking in that channel:
    only its members see the message."""
    if user_id in approvers:
        return True
    return is_channel_id(clicked_in) and clicked_in in approvers


@dataclass(frozen=True)
class AskedApproval:
    """A stored request: what the requester is told at once."""

    request: ApprovalRequest
    approvers: list[str]  # user ids, or one channel id


async def request_approval(
    store: Store,
    poster: ApprovalPoster,
    *,
    team_id: str,
    requester_user_id: str,
    channel_id: str,
    starts: list[ApprovalStart],
    currency: str,
    month_spent: Decimal | None,
    decision: StartDecision,
    approvers: Collection[str],
    admins: Collection[str] = (),
    hours: float = 24.0,
    now: datetime | None = None,
    lease_seconds: float = MESSAGE_LEASE_SECONDS,
) -> AskedApproval:
    """Store a request for `starts` (one today; a sweep asks once for all of them), post it to
    the approvers and tell the requester (messages a failure leaves unposted are posted by a
    later poll cycle). Raises `NoApprovers` when no one could approve it."""
    if not starts:
        raise ValueError("a request needs at least one start")
    who = approver_set(approvers, admins)
    targets = approver_targets(who)
    if not targets:
        raise NoApprovers()
    now = now or utcnow()
    amount = total_estimate(starts)
    request = ApprovalRequest(
        team_id=team_id,
        requester_user_id=requester_user_id,
        channel_id=channel_id,
        starts=starts_to_json(starts),
        amount=float(amount) if amount is not None else None,
        currency=currency,
        month_spent=float(month_spent) if month_spent is not None else None,
        rule=decision.rule.value if decision.rule is not None else "",
        rule_limit=float(decision.limit) if decision.limit is not None else None,
        state=ApprovalState.PENDING.value,
        nonce=secrets.token_hex(12),
        expires_at=now + timedelta(hours=hours),
        created_at=now,
        updated_at=now,
    )
    details = {
        "rule": request.rule,
        "channel_id": channel_id,
        "datasets": [start.dataset_name for start in starts],
        "base_models": [start.base_model for start in starts],
        "approvers": targets,
    }
    stored = await store.run(
        store.approvals.create,
        request,
        [(APPROVER, target) for target in targets] + [(REQUESTER, requester_user_id)],
        AuditLine(AuditAction.REQUEST, requester_user_id, details),
    )
    assert stored.id is not None
    await deliver(store, poster, stored.id, now=now, lease_seconds=lease_seconds)
    return AskedApproval(stored, targets)


async def deliver(
    store: Store, poster: ApprovalPoster, request_id: int, *, now: datetime, lease_seconds: float
) -> bool:
    """Post a request's messages not posted yet (while it is pending) and edit those that do
    not show its state; True when nothing is left to do. A failure is logged and left for a
    later poll cycle."""
    request = await store.run(store.approvals.get, request_id)
    if request is None:
        return True
    done = True
    for message in await store.run(store.approvals.messages, request_id):
        message_id = message.id
        assert message_id is not None
        try:
            if message.state != "posted":
                if request.state != ApprovalState.PENDING:
                    continue  # decided before it went out: nothing to ask any more
                held = await store.run(
                    store.approvals.claim_post, message_id, now=now, lease_seconds=lease_seconds
                )
                if held is None:
                    done = False
                    continue
                message = await _post(store, poster, request, held)
            if message.shown != request.state and not _starting(request):
                held = await store.run(
                    store.approvals.claim_show,
                    message_id,
                    request.state,
                    now=now,
                    lease_seconds=lease_seconds,
                )
                if held is None:
                    done = False
                    continue
                await poster.show(request, held)
                await store.run(
                    store.approvals.update_message, message_id, shown=request.state, lease_expires_at=None
                )
        except Exception as exc:
            log.warning("approval request %s: message %s not done yet (%s)", request_id, message_id, exc)
            done = False
    return done


def _starting(request: ApprovalRequest) -> bool:
    """Approved, and its start not recorded yet: its messages wait to name the job."""
    return request.state == ApprovalState.APPROVED and not request.job_ids and not request.start_error


async def _post(
    store: Store, poster: ApprovalPoster, request: ApprovalRequest, message: ApprovalMessage
) -> ApprovalMessage:
    assert message.id is not None
    recovering = message.state == "posting"
    if message.channel_id is None:
        message.channel_id = await poster.open(message)
    await store.run(
        store.approvals.update_message, message.id, state="posting", channel_id=message.channel_id
    )
    ts = await poster.find(request, message) if recovering else None
    if ts is None:
        try:
            ts = await poster.post(request, message)
        except Exception:
            # Left `posting`: the next holder looks for it before posting again.
            await store.run(store.approvals.update_message, message.id, lease_expires_at=None)
            raise
    message.ts, message.state = ts, "posted"
    await store.run(store.approvals.update_message, message.id, state="posted", ts=ts, lease_expires_at=None)
    return message


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
    if _aware(request.expires_at) <= now:
        expired = await expire(store, request_id, now=now)
        raise ClickRefused(Refusal.EXPIRED, expired or request)
    return request


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
    if request is None or request.state != ApprovalState.PENDING or _aware(request.expires_at) > now:
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
) -> ApprovalRequest:
    """An approved request's start: its jobs (or why it failed) and its audit lines: the
    approval (with `job_id`, which lets the approver cancel what they approved) and each
    start, by the requester."""
    assert request.id is not None
    approve: dict[str, object] = {"requester": request.requester_user_id}
    if job_ids:
        approve["job_id"] = job_ids[0]
        approve["job_ids"] = job_ids
    if error:
        approve["start_error"] = error
    starts = starts_of(request)
    lines = [AuditLine(AuditAction.APPROVE, approver, approve)]
    for index, job_id in enumerate(job_ids):
        start = starts[index] if index < len(starts) else None
        lines.append(
            AuditLine(
                AuditAction.START,
                request.requester_user_id,
                {
                    "job_id": job_id,
                    "request": request.id,
                    "approved_by": approver,
                    "dataset": start.dataset_name if start else None,
                    "estimate": str(start.estimate) if start and start.estimate is not None else None,
                },
            )
        )
    recorded = await store.run(
        store.approvals.record_started, request.id, job_ids=job_ids, error=error, audits=lines, now=now
    )
    return recorded or request


def starts_of(request: ApprovalRequest) -> list[ApprovalStart]:
    return starts_from_json(request.starts)


def job_ids_of(request: ApprovalRequest) -> list[int]:
    return [int(i) for i in json.loads(request.job_ids)] if request.job_ids else []


# ---- what the messages show


@dataclass(frozen=True)
class ApprovalView:
    """A request as its messages show it."""

    request_id: int
    requester: str
    channel_id: str
    starts: list[ApprovalStart]
    amount: float | None
    currency: str
    month_spent: float | None
    rule: str
    rule_limit: float | None
    state: ApprovalState
    expires_at: datetime
    hours: float
    approvers: list[str]  # user ids, or one channel id
    value: str  # what its buttons carry
    decided_by: str | None = None
    reason: str | None = None
    jobs: list[str] = field(default_factory=list)  # the started jobs' names
    start_error: str | None = None


def approval_view(store: Store, request: ApprovalRequest) -> ApprovalView:
    """Blocking: call through `store.run`."""
    assert request.id is not None
    approvers = [m.target for m in store.approvals.messages(request.id) if m.role == APPROVER]
    jobs = [store.jobs.get(job_id) for job_id in job_ids_of(request)]
    created, expires = _aware(request.created_at), _aware(request.expires_at)
    return ApprovalView(
        request_id=request.id,
        requester=request.requester_user_id,
        channel_id=request.channel_id,
        starts=starts_of(request),
        amount=request.amount,
        currency=request.currency,
        month_spent=request.month_spent,
        rule=request.rule,
        rule_limit=request.rule_limit,
        state=ApprovalState(request.state),
        expires_at=expires,
        hours=(expires - created).total_seconds() / 3600,
        approvers=approvers,
        value=button_value(request.id, request.nonce),
        decided_by=request.decided_by,
        reason=request.reason,
        jobs=[job.display_name for job in jobs if job is not None],
        start_error=request.start_error,
    )


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
