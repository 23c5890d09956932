"""`/tune cancel <model>`: asks to confirm (the button is `actions.cancel_job`)."""

from __future__ import annotations

from bot.listeners.requests import CommandRequest
from bot.presentation.cancel import CANCEL_USAGE, cancel_outcome_text, cancel_prompt_blocks
from bot.services.cancel import describe_job_for_cancel
from bot.slack.commands import split_first
from bot.slack.context import AppContext


async def confirm_cancel(ctx: AppContext, request: CommandRequest) -> None:
    model_text, _ = split_first(request.rest, "job", CANCEL_USAGE)
    await request.ack()
    found = await ctx.store.run(
        describe_job_for_cancel,
        ctx.store,
        ctx.backend,
        team_id=request.team_id,
        user_id=request.user_id,
        model_text=model_text,
        admins=ctx.admins,
    )
    if found.kind == "ask" and found.job is not None:
        text, body = cancel_prompt_blocks(found.job)
        await request.respond(text=text, blocks=body, response_type="ephemeral")
        return
    await request.respond(text=cancel_outcome_text(found), response_type="ephemeral")
