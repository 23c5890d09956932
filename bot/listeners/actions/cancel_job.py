"""The Cancel button after `/tune cancel`: cancels the job, then edits its message once."""

from __future__ import annotations

import logging

from bot.listeners.requests import ActionRequest
from bot.presentation.cancel import cancel_outcome_text
from bot.services.cancel import cancel_job, job_id_from_button
from bot.slack.context import AppContext
from bot.slack.jobs import show_cancelled_job

log = logging.getLogger(__name__)


async def cancel_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    outcome = await cancel_job(
        ctx.store,
        ctx.backend,
        team_id=request.team_id,
        user_id=request.user_id,
        job_id=job_id_from_button(request.value),
        admins=ctx.admins,
        currency=ctx.settings.price_currency,
    )
    log.info("cancel of job %r requested by %s: %s", request.value, request.user_id, outcome.kind)
    text = cancel_outcome_text(outcome)
    if request.body.get("response_url"):
        await request.respond(text=text, replace_original=True)
    else:
        await ctx.client.chat_postMessage(channel=request.user_id, text=text)
    if outcome.kind == "cancelled" and outcome.job is not None:
        await show_cancelled_job(ctx, outcome.job)
        ctx.home_changed(request.team_id)
