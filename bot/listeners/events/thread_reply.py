"""`message`: a reply in a `/tune try` or `/tune compare` thread is answered in the thread."""

from __future__ import annotations

from typing import Any

from bot.listeners.events.delivery import first_delivery, prompt_text
from bot.listeners.requests import EventRequest
from bot.slack.context import AppContext
from bot.slack.conversation import answer_in_thread
from bot.slack.evaluation import answer_compare_in_thread


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    if event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
        return False
    thread_ts = event.get("thread_ts")
    return bool(thread_ts) and thread_ts != event.get("ts")


async def thread_reply(ctx: AppContext, request: EventRequest) -> None:
    event = request.event
    if not is_human_thread_reply(event):
        return
    channel_id, thread_ts = event["channel"], event["thread_ts"]
    model_name = await ctx.store.run(ctx.store.threads.model_for, channel_id, thread_ts)
    if model_name is None or not await first_delivery(ctx, request):
        return
    prompt = prompt_text(event.get("text") or "")
    if not prompt:
        return
    base_model = await ctx.store.run(ctx.store.threads.compare_base_model, channel_id, thread_ts)
    if base_model is not None:  # a `/tune compare` thread: both models answer
        await answer_compare_in_thread(
            ctx,
            channel_id=channel_id,
            thread_ts=thread_ts,
            model_name=model_name,
            base_model=base_model,
            prompt=prompt,
        )
        return
    await answer_in_thread(
        ctx, channel_id=channel_id, thread_ts=thread_ts, model_name=model_name, prompt=prompt
    )
