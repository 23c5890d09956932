"""Approvals' Slack side (issue #22): the request's messages, posted once and edited once per
decision (`SlackApprovalPoster`), asking from the start path (`ask_approval`), and starting an
approved request as the requester's (`start_approved`).

Where things appear: the approvers get the request in a DM each (TUNEBOT_APPROVERS lists user
ids) or as one message in their channel (a channel id); the requester gets a DM that says who
was asked, with a Withdraw button. Once decided, both are edited, and the requester's DM gets
a reply in its thread ("Approved by @a; started job …"); the job's own message appears in the
channel where the start was asked, as any job's."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from datetime import UTC
from decimal import Decimal
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.approvals import ApprovalStart, ApprovalState
from bot.domain.errors import BackendError, UsageError, UserError
from bot.domain.pricing import CostEstimate
from bot.domain.requests import StartArgs
from bot.domain.spend import StartDecision
from bot.presentation.approvals import (
    OUTCOME_EVENT_TYPE,
    REQUEST_EVENT_TYPE,
    approval_asked_text,
    approver_message,
    requester_message,
    requester_outcome_text,
)
from bot.presentation.errors import error_text
from bot.services.approval_decisions import ApprovalKeeper, record_start
from bot.services.approvals import REQUESTER, approval_view, deliver, request_approval, starts_of
from bot.services.datasets import estimate_start, lookup_dataset
from bot.services.jobs import resolve_base_model, start_epochs, start_job
from bot.slack.calls import SlackCallFailed, call, paged, post_once
from bot.slack.channels import ensure_member
from bot.slack.context import AppContext
from bot.slack.jobs import announce_new_job
from bot.slack.spend import policy_approvers
from bot.storage.models import ApprovalMessage, ApprovalRequest, TuningJob
from bot.storage.store import Store

log = logging.getLogger(__name__)


def _metadata(event_type: str, request: ApprovalRequest, message: ApprovalMessage) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "event_payload": {"request_id": str(request.id), "message_id": str(message.id)},
    }


def _names(
    found: dict[str, Any], event_type: str, request: ApprovalRequest, message: ApprovalMessage
) -> bool:
    meta = found.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return (
        meta.get("event_type") == event_type
        and str(payload.get("request_id")) == str(request.id)
        and str(payload.get("message_id")) == str(message.id)
    )


class SlackApprovalPoster:
    """A request's messages in Slack (the service's `ApprovalPoster`): each names the request
    and itself in its metadata, so after an ambiguous failure or a crash it is found, not
    posted twice."""

    def __init__(self, client: AsyncWebClient, store: Store) -> None:
        self.client = client
        self.store = store

    async def _content(self, request: ApprovalRequest, message: ApprovalMessage) -> tuple[str, list[Any]]:
        view = await self.store.run(approval_view, self.store, request)
        return requester_message(view) if message.role == REQUESTER else approver_message(view)

    async def open(self, message: ApprovalMessage) -> str:
        if message.target[:1] not in ("U", "W"):
            return message.target
        opened = await call(self.client, "conversations_open", users=message.target)
        channel = (opened.get("channel") or {}).get("id")
        if not channel:
            raise SlackCallFailed("conversations.open", "no_channel", ambiguous=False)
        return str(channel)

    async def find(self, request: ApprovalRequest, message: ApprovalMessage) -> str | None:
        created = request.created_at.replace(tzinfo=request.created_at.tzinfo or UTC)
        async for found in paged(
            self.client,
            "conversations_history",
            channel=message.channel_id,
            oldest=f"{created.timestamp() - 60:.6f}",
        ):
            if _names(found, REQUEST_EVENT_TYPE, request, message):
                return str(found["ts"])
        return None

    async def post(self, request: ApprovalRequest, message: ApprovalMessage) -> str:
        text, blocks = await self._content(request, message)
        return await post_once(
            self.client,
            lambda: self.find(request, message),
            channel=message.channel_id,
            text=text,
            blocks=blocks,
            metadata=_metadata(REQUEST_EVENT_TYPE, request, message),
        )

    async def show(self, request: ApprovalRequest, message: ApprovalMessage) -> None:
        view = await self.store.run(approval_view, self.store, request)
        decided = message.role == REQUESTER and view.state != ApprovalState.PENDING
        if decided and not await self._outcome_posted(request, message):
            await post_once(
                self.client,
                lambda: self._outcome_ts(request, message),
                channel=message.channel_id,
                thread_ts=message.ts,
                text=requester_outcome_text(view),
                metadata=_metadata(OUTCOME_EVENT_TYPE, request, message),
            )
        text, blocks = requester_message(view) if message.role == REQUESTER else approver_message(view)
        await call(
            self.client, "chat_update", channel=message.channel_id, ts=message.ts, text=text, blocks=blocks
        )

    async def _outcome_ts(self, request: ApprovalRequest, message: ApprovalMessage) -> str | None:
        async for found in self._thread(message):
            if _names(found, OUTCOME_EVENT_TYPE, request, message):
                return str(found["ts"])
        return None

    async def _outcome_posted(self, request: ApprovalRequest, message: ApprovalMessage) -> bool:
        return await self._outcome_ts(request, message) is not None

    def _thread(self, message: ApprovalMessage) -> AsyncIterator[dict[str, Any]]:
        return paged(self.client, "conversations_replies", channel=message.channel_id, ts=message.ts)


def keeper_of(ctx: AppContext) -> ApprovalKeeper:
    assert ctx.approvals is not None, "the runtime sets ctx.approvals"
    return ctx.approvals


async def ask_approval(
    ctx: AppContext,
    *,
    team_id: str,
    requester_user_id: str,
    channel_id: str,
    starts: list[ApprovalStart],
    currency: str,
    month_spent: Decimal | None,
    decision: StartDecision,
) -> str:
    """From the start path: store the request, post it to the approvers, tell the requester in
    a DM; returns the text for the start's ack. Raises `NoApprovers` (a `UserError`)."""
    keeper = keeper_of(ctx)
    asked = await request_approval(
        ctx.store,
        keeper.poster,
        team_id=team_id,
        requester_user_id=requester_user_id,
        channel_id=channel_id,
        starts=starts,
        currency=currency,
        month_spent=month_spent,
        decision=decision,
        approvers=await policy_approvers(ctx.store, ctx.settings, team_id),
        admins=ctx.admins,
        hours=ctx.settings.approval_hours,
        now=keeper.clock(),
        lease_seconds=keeper.lease_seconds,
    )
    view = await ctx.store.run(approval_view, ctx.store, asked.request)
    return approval_asked_text(asked, view)


async def start_approved(ctx: AppContext, request: ApprovalRequest, approver: str) -> ApprovalRequest:
    """Start what an approved request asked for, as the requester's (owner = requester, the job
    message in the channel where they asked); record and audit it; edit the request's messages."""
    keeper = keeper_of(ctx)
    jobs: list[TuningJob] = []
    error: str | None = None
    try:
        await ensure_member(ctx, request.channel_id)
        for start in starts_of(request):
            # The dataset the approvers saw, by its id (a name may have changed since).
            args = dataclasses.replace(start.args, dataset=f"#{start.dataset_id}")
            jobs.append(
                await start_job(
                    ctx.store,
                    ctx.backend,
                    team_id=request.team_id,
                    user_id=request.requester_user_id,
                    channel_id=request.channel_id,
                    args=args,
                    hold_seconds=ctx.settings.lease_seconds,
                    eval_examples=ctx.settings.eval_max_examples,
                    limits=ctx.limits,
                    cost=await _cost(ctx, request.team_id, args),
                    # A sweep's variant: the sweep's held-out split (bot/services/sweeps.py).
                    holdout_seed=f"sweep-{start.sweep_id}" if start.sweep_id is not None else None,
                    sweep_id=start.sweep_id,
                )
            )
    except (UserError, UsageError, BackendError) as exc:
        log.warning("approval request %s: the approved start failed: %s", request.id, exc)
        error = error_text(exc)
    recorded = await record_start(
        ctx.store,
        request,
        approver=approver,
        job_ids=[job.id for job in jobs if job.id is not None],
        error=error,
        now=keeper.clock(),
        model_names=[job.model_name for job in jobs if job.model_name],
    )
    for job in jobs:
        await announce_new_job(ctx, job)
    ctx.home_changed(request.team_id)
    await show_decided(ctx, recorded)
    return recorded


async def _cost(ctx: AppContext, team_id: str, args: StartArgs) -> CostEstimate | None:
    """The start's estimate as `/tune start` makes it (for the job row and its `start` audit
    line), priced now; None when the dataset is gone (the start then says so)."""
    dataset = await ctx.store.run(lookup_dataset, ctx.store, team_id, args.dataset)
    if dataset is None:
        return None
    estimate = await ctx.store.run(
        estimate_start,
        ctx.store,
        dataset,
        epochs=start_epochs(ctx.backend, args),
        base_model=resolve_base_model(args.base_model, ctx.backend),
        prices=ctx.settings.training_prices,
        currency=ctx.settings.price_currency,
        validation=args.validation,
        validation_sent=ctx.backend.supports_validation,
        vertex=ctx.backend.name == "vertex",
    )
    return estimate.cost


async def show_starting(ctx: AppContext, request: ApprovalRequest, channel_id: str, ts: str | None) -> None:
    """The clicked request message, at once: approved, the job starting (a Vertex AI start can
    take a while). Best effort: the edit that names the job follows either way."""
    if not ts or not channel_id:
        return
    text, blocks = approver_message(await ctx.store.run(approval_view, ctx.store, request))
    try:
        await call(ctx.client, "chat_update", channel=channel_id, ts=ts, text=text, blocks=blocks)
    except SlackCallFailed:
        log.info("approval request %s: could not show that the job is starting", request.id)


async def show_decided(ctx: AppContext, request: ApprovalRequest) -> None:
    """Edit the request's messages now (what fails is left to the poll cycle)."""
    keeper = keeper_of(ctx)
    assert request.id is not None
    await deliver(
        ctx.store, keeper.poster, request.id, now=keeper.clock(), lease_seconds=keeper.lease_seconds
    )
