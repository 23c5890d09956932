"""`/tune help` (and `/tune ?`, and `/tune` alone): the commands, answered in the ack."""

from __future__ import annotations

from bot.listeners.requests import CommandRequest
from bot.presentation import blocks
from bot.slack.context import AppContext


async def show_help(ctx: AppContext, request: CommandRequest) -> None:
    text, help_ = blocks.help_blocks()
    await request.ack(text=text, blocks=help_)
