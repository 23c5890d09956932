"""`/tune compare <model> <prompt>`: a thread where the model and its base model both answer."""

from __future__ import annotations

from bot.listeners.commands.try_model import open_model_thread
from bot.listeners.requests import CommandRequest
from bot.presentation.commands import COMPARE_USAGE
from bot.slack.commands import split_first
from bot.slack.context import AppContext
from bot.slack.evaluation import open_compare_thread


async def compare_models(ctx: AppContext, request: CommandRequest) -> None:
    model_text, prompt = split_first(request.rest, "model", COMPARE_USAGE)
    await open_model_thread(
        ctx,
        request,
        model_text=model_text,
        prompt=prompt,
        checkpoint=None,
        usage=COMPARE_USAGE,
        opener=open_compare_thread,
    )
