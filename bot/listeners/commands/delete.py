"""`/tune delete <model>`: asks to confirm (the button is `actions.delete_model`)."""

from __future__ import annotations

from bot.listeners.requests import CommandRequest
from bot.presentation import blocks
from bot.presentation.aliases import delete_alias_warning
from bot.presentation.commands import DELETE_USAGE
from bot.services.models import describe_model_for_delete
from bot.slack.commands import split_first
from bot.slack.context import AppContext


async def confirm_delete(ctx: AppContext, request: CommandRequest) -> None:
    model_text, _ = split_first(request.rest, "model", DELETE_USAGE)
    await request.ack()
    found = await describe_model_for_delete(
        ctx.store,
        ctx.backend,
        team_id=request.team_id,
        user_id=request.user_id,
        model_text=model_text,
        admins=ctx.admins,
    )
    text, body = blocks.delete_prompt_blocks(
        found.model.name, found.model.display_name, found.tuning_percent, delete_alias_warning(found.aliases)
    )
    await request.respond(text=text, blocks=body, response_type="ephemeral")
