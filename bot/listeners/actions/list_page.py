"""The Next/Previous buttons under `/tune list`."""

from __future__ import annotations

from bot.domain.errors import BackendError
from bot.listeners.pages import models_page
from bot.listeners.requests import ActionRequest
from bot.presentation import blocks
from bot.presentation.models import STALE_PAGE_BUTTON_TEXT, list_failed_text
from bot.slack.context import AppContext


async def show_models_page(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    try:
        page_number, extra = blocks.parse_page_value(request.value)
    except (ValueError, KeyError, TypeError):
        await request.respond(text=STALE_PAGE_BUTTON_TEXT, replace_original=True)
        return
    try:
        text, page = await models_page(
            ctx, request.team_id, request.user_id, scope=extra.get("s", "all"), page_number=page_number
        )
    except BackendError as exc:
        await request.respond(text=list_failed_text(str(exc)), replace_original=False)
        return
    await request.respond(text=text, blocks=page, replace_original=True)
