"""The Decline form's submission: the reason, then the one decision (checked like a click)."""

from __future__ import annotations

from bot.domain.approvals import ApprovalState
from bot.listeners.requests import ViewRequest
from bot.listeners.views.form import private_metadata, view_values
from bot.presentation.approvals import REASON_BLOCK, refusal_text
from bot.presentation.text import plain_text
from bot.services.approval_decisions import Clicker, ClickRefused, check_click, decide
from bot.services.approvals import approval_view, approver_set
from bot.slack.approvals import keeper_of, show_decided
from bot.slack.context import AppContext
from bot.slack.spend import policy_approvers


async def decline_submitted(ctx: AppContext, request: ViewRequest) -> None:
    meta = private_metadata(request.view)
    reason = view_values(request.view).get(REASON_BLOCK) or ""
    clicker = Clicker(team_id=request.team_id, user_id=request.user_id, channel_id=meta.get("channel", ""))
    now = keeper_of(ctx).clock()
    approvers = approver_set(await policy_approvers(ctx.store, ctx.settings, request.team_id), ctx.admins)
    try:
        pending = await check_click(ctx.store, meta.get("value", ""), clicker, approvers=approvers, now=now)
        declined = await decide(
            ctx.store, pending, ApprovalState.DECLINED, actor=clicker.user_id, now=now, reason=reason
        )
    except ClickRefused as refused:
        view = await ctx.store.run(approval_view, ctx.store, refused.request) if refused.request else None
        text = plain_text(refusal_text(refused.refusal, view))
        await request.ack(response_action="errors", errors={REASON_BLOCK: text[:150]})
        return
    await request.ack()
    await show_decided(ctx, declined)
