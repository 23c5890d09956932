"""The buttons of an approval request: Approve and Decline (approvers), Withdraw (requester).

Each click is acknowledged at once, then checked (the request it names, its nonce, the team,
who clicked, whether it is still pending); a refusal is said privately to whoever clicked.
The decision is one conditional UPDATE: of two clicks, replicas or Slack retries, one wins,
and only the winner starts the job (bot/slack/approvals.py)."""

from __future__ import annotations

import logging

from bot.domain.approvals import ApprovalState
from bot.listeners.requests import ActionRequest
from bot.presentation.approvals import decline_modal, refusal_text
from bot.services.approval_decisions import Clicker, ClickRefused, Refusal, check_click, decide
from bot.services.approvals import approval_view, approver_set
from bot.slack.approvals import keeper_of, show_decided, show_starting, start_approved
from bot.slack.context import AppContext
from bot.slack.spend import policy_approvers

log = logging.getLogger(__name__)


def clicker_of(request: ActionRequest) -> Clicker:
    body = request.body
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return Clicker(team_id=request.team_id, user_id=request.user_id, channel_id=str(channel))


async def refuse(ctx: AppContext, request: ActionRequest, refused: ClickRefused) -> None:
    """Say privately why the click did nothing (an expiry it found is shown on the messages)."""
    view = await ctx.store.run(approval_view, ctx.store, refused.request) if refused.request else None
    if refused.refusal is Refusal.EXPIRED and refused.request is not None:
        await show_decided(ctx, refused.request)
    await request.respond(
        text=refusal_text(refused.refusal, view), response_type="ephemeral", replace_original=False
    )


async def approve_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    now = keeper_of(ctx).clock()
    clicker = clicker_of(request)
    approvers = approver_set(await policy_approvers(ctx.store, ctx.settings, request.team_id), ctx.admins)
    try:
        pending = await check_click(ctx.store, request.value, clicker, approvers=approvers, now=now)
        approved = await decide(ctx.store, pending, ApprovalState.APPROVED, actor=clicker.user_id, now=now)
    except ClickRefused as refused:
        await refuse(ctx, request, refused)
        return
    log.info("approval request %s approved by %s", approved.id, clicker.user_id)
    clicked = (request.body.get("container") or {}).get("message_ts")
    await show_starting(ctx, approved, clicker.channel_id, clicked)
    await start_approved(ctx, approved, clicker.user_id)


async def decline_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    clicker = clicker_of(request)
    approvers = approver_set(await policy_approvers(ctx.store, ctx.settings, request.team_id), ctx.admins)
    try:
        pending = await check_click(
            ctx.store, request.value, clicker, approvers=approvers, now=keeper_of(ctx).clock()
        )
    except ClickRefused as refused:
        await refuse(ctx, request, refused)
        return
    view = await ctx.store.run(approval_view, ctx.store, pending)
    trigger_id = str(request.body.get("trigger_id") or "")
    await ctx.client.views_open(
        trigger_id=trigger_id, view=decline_modal(request.value, clicker.channel_id, view)
    )


async def withdraw_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    now = keeper_of(ctx).clock()
    clicker = clicker_of(request)
    try:
        pending = await check_click(ctx.store, request.value, clicker, approvers=None, now=now)
        withdrawn = await decide(ctx.store, pending, ApprovalState.WITHDRAWN, actor=clicker.user_id, now=now)
    except ClickRefused as refused:
        await refuse(ctx, request, refused)
        return
    log.info("approval request %s withdrawn", withdrawn.id)
    await show_decided(ctx, withdrawn)
