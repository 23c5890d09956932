"""The Next/Previous buttons under `/tune datasets`."""

from __future__ import annotations

from bot.listeners.pages import datasets_page
from bot.listeners.requests import ActionRequest
from bot.presentation import blocks
from bot.slack.context import AppContext


async def show_datasets_page(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    try:
        page_number, _ = blocks.parse_page_value(request.value)
    except (ValueError, KeyError, TypeError):
        page_number = 1
    text, page = await datasets_page(ctx, request.team_id, request.user_id, page_number=page_number)
    await request.respond(text=text, blocks=page, replace_original=True)
