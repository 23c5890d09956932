"""`/tune upload`: the upload modal (opened right after the ack: a trigger_id lives 3 seconds)."""

from __future__ import annotations

from bot.listeners.requests import CommandRequest
from bot.presentation import blocks
from bot.slack.context import AppContext


async def open_upload_modal(ctx: AppContext, request: CommandRequest) -> None:
    await request.ack()
    await ctx.client.views_open(
        trigger_id=request.trigger_id, view=blocks.upload_modal(request.channel_id, request.user_id)
    )
