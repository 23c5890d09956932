"""Events API: replies in `/tune try` threads and files shared with a mention."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.presentation import blocks
from bot.slack.context import AppContext
from bot.slack.conversation import answer_in_thread
from bot.slack.dedupe import first_time
from bot.slack.evaluation import answer_compare_in_thread
from bot.slack.uploads import ingest_slack_file

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
MAX_FILES_PER_MESSAGE = 5


def prompt_text(text: str) -> str:
    """A message's text without mentions of the bot (or anyone)."""
    return MENTION.sub("", text).strip()


def is_human_thread_reply(event: dict[str, Any]) -> bool:
    if event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
        return False
    thread_ts = event.get("thread_ts")
    return bool(thread_ts) and thread_ts != event.get("ts")


def register(app: AsyncApp, ctx: AppContext) -> None:
    async def first_delivery(body: dict[str, Any]) -> bool:
        """Slack retries deliveries it thinks failed; handle each event once."""
        event_id = body.get("event_id")
        if not event_id:
            return True
        if await first_time(ctx, str(event_id)):
            return True
        log.info("ignoring a repeated delivery of %s", event_id)
        return False

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any]) -> None:
        if not is_human_thread_reply(event):
            return
        model_name = ctx.store.threads.model_for(event["channel"], event["thread_ts"])
        if model_name is None or not await first_delivery(body):
            return
        prompt = prompt_text(event.get("text") or "")
        if not prompt:
            return
        base_model = ctx.store.threads.compare_base_model(event["channel"], event["thread_ts"])
        if base_model is not None:  # a `/tune compare` thread: both models answer
            await answer_compare_in_thread(
                ctx,
                channel_id=event["channel"],
                thread_ts=event["thread_ts"],
                model_name=model_name,
                base_model=base_model,
                prompt=prompt,
            )
            return
        await answer_in_thread(
            ctx,
            channel_id=event["channel"],
            thread_ts=event["thread_ts"],
            model_name=model_name,
            prompt=prompt,
        )

    @app.event("app_home_opened")
    async def on_home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and ctx.home is not None:
            ctx.home.opened(body.get("team_id") or event.get("team", ""), event.get("user", ""))

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        channel_id = event["channel"]
        thread_ts = event.get("thread_ts")
        if thread_ts and ctx.store.threads.model_for(channel_id, thread_ts):
            return  # the `message` event for the same post answers it
        if not await first_delivery(body):
            return
        user_id = event.get("user", "")
        files = event.get("files") or []
        if not files:
            text, _ = blocks.help_blocks()
            await _tell(
                ctx,
                channel_id,
                user_id,
                "Attach an example file to a message that mentions me to "
                "upload it, or use `/tune upload`. " + text,
            )
            return
        team_id = body.get("team_id") or event.get("team", "")
        for file in files[:MAX_FILES_PER_MESSAGE]:
            result = await ingest_slack_file(
                ctx, file, team_id=team_id, user_id=user_id, channel_id=channel_id
            )
            await _tell(ctx, channel_id, user_id, result)
        if len(files) > MAX_FILES_PER_MESSAGE:
            await _tell(ctx, channel_id, user_id, f"I only read the first {MAX_FILES_PER_MESSAGE} files.")


async def _tell(ctx: AppContext, channel_id: str, user_id: str, text: str) -> None:
    try:
        await ctx.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except SlackApiError:
        log.warning("could not post an ephemeral message in %s", channel_id)
