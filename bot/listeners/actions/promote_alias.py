"""The Promote and Cancel buttons of `/tune promote`: point the alias, or leave it."""

from __future__ import annotations

import logging

from bot.domain.errors import UserError
from bot.listeners.requests import ActionRequest
from bot.presentation.aliases import parse_promote_value, promote_cancelled_text, promoted_text
from bot.presentation.errors import error_text
from bot.services.aliases import promote
from bot.slack.context import AppContext

log = logging.getLogger(__name__)


async def promote_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    parsed = parse_promote_value(request.value)
    if parsed is None:  # not a value tunebot sets: nothing moves
        await request.respond(text=promote_cancelled_text(""), replace_original=True)
        return
    alias, model_name = parsed
    try:
        promoted = await ctx.store.run(
            promote,
            ctx.store,
            team_id=request.team_id,
            user_id=request.user_id,
            alias=alias,
            model_name=model_name,
            admins=ctx.admins,
        )
        text = promoted_text(promoted)
    except UserError as exc:
        text = error_text(exc)
    log.info("promote of %s as %s requested by %s", model_name, alias, request.user_id)
    await request.respond(text=text, replace_original=True)
    ctx.home_changed(request.team_id)


async def keep_alias_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    await request.respond(text=promote_cancelled_text(request.value), replace_original=True)
