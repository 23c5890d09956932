"""Approvals (issue #22): a start over a limit is not sent to Google; it becomes a request the
approvers decide once, with Approve or Decline, and the requester may withdraw.

`request_approval` stores the request (state pending, its messages to come, the audit line)
and delivers its messages through an `ApprovalPoster` (Slack's side: bot/slack/approvals.py):
one to each approver (a DM) or one in the approvers' channel, and one to the requester (a DM
with a Withdraw button). Every message is posted exactly once (claimed, written `posting`
before the post, looked for by its metadata after an ambiguous failure or a crash) and edited
once per decision. A click is checked (`check_click`): the request it names, its nonce,
the team, who clicked and whether it is still pending; the decision itself is one conditional
UPDATE (`decide`), so only one click, replica or Slack retry wins. `ApprovalKeeper` runs in
every poll cycle: it expires requests past TUNEBOT_APPROVAL_HOURS and posts or edits what a
failure left undone. Clicks, decisions, expiry and the keeper are in
bot/services/approval_decisions.py. No Slack text here: results and refusal reasons only."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.domain.approvals import (
    ApprovalStart,
    ApprovalState,
    button_value,
    starts_from_json,
    starts_to_json,
    total_estimate,
)
from bot.domain.audit import AuditAction
from bot.domain.errors import UserError
from bot.domain.spend import StartDecision
from bot.storage.models import ApprovalMessage, ApprovalRequest, utcnow
from bot.storage.repositories.approvals import AuditLine
from bot.storage.store import Store

log = logging.getLogger(__name__)

APPROVER = "approver"
REQUESTER = "requester"
MESSAGE_LEASE_SECONDS = 60.0


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


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
    created, expires = aware(request.created_at), aware(request.expires_at)
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
