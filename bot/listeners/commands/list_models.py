"""`/tune list [mine|all]`: a page of tuned models (the service is asked after the ack)."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.listeners.pages import models_page
from bot.listeners.requests import CommandRequest
from bot.presentation.commands import bad_list_scope_text
from bot.slack.context import AppContext

LIST_SCOPES = ("all", "mine")


async def list_models(ctx: AppContext, request: CommandRequest) -> None:
    scope = request.rest.strip().lower() or "all"
    if scope not in LIST_SCOPES:
        raise UsageError(bad_list_scope_text(request.rest))
    await request.ack()
    text, body = await models_page(ctx, request.team_id, request.user_id, scope=scope, page_number=1)
    await request.respond(text=text, blocks=body, response_type="ephemeral")
