"""`/tune upload`: alone, the upload modal (opened right after the ack: a trigger_id lives 3
seconds); with a `gs://bucket/object` URI, that file read in place from Cloud Storage."""

from __future__ import annotations

from bot.listeners.commands.cloud import upload_from_cloud
from bot.listeners.requests import CommandRequest
from bot.presentation import blocks
from bot.slack.context import AppContext


async def open_upload_modal(ctx: AppContext, request: CommandRequest) -> None:
    if request.rest:
        await upload_from_cloud(ctx, request)
        return
    await request.ack()
    await ctx.client.views_open(
        trigger_id=request.trigger_id, view=blocks.upload_modal(request.channel_id, request.user_id)
    )
