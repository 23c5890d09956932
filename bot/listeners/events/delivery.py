"""Slack retries deliveries it thinks failed: each event is handled once."""

from __future__ import annotations

import logging
import re

from bot.listeners.requests import EventRequest
from bot.slack.context import AppContext
from bot.slack.dedupe import first_time

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


async def first_delivery(ctx: AppContext, request: EventRequest) -> bool:
    event_id = request.body.get("event_id")
    if not event_id:
        return True
    if await first_time(ctx, str(event_id)):
        return True
    log.info("ignoring a repeated delivery of %s", event_id)
    return False


def prompt_text(text: str) -> str:
    """A message's text without mentions of the bot (or anyone)."""
    return MENTION.sub("", text).strip()
