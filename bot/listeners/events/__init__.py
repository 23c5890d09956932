"""Events API listeners, registered from `EVENTS` (event type -> listener)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.listeners.events.home_opened import home_opened
from bot.listeners.events.mention import mentioned
from bot.listeners.events.thread_reply import thread_reply
from bot.listeners.requests import EventHandler, EventRequest
from bot.slack.acks import in_background
from bot.slack.context import AppContext

EVENTS: dict[str, EventHandler] = {
    "message": thread_reply,
    "app_home_opened": home_opened,
    "app_mention": mentioned,
}


def register(app: AsyncApp, ctx: AppContext) -> None:
    for event_type, handler in EVENTS.items():
        app.event(event_type)(_listener(ctx, handler))


def _listener(ctx: AppContext, handler: EventHandler) -> Callable[..., Awaitable[None]]:
    async def listener(body: dict[str, Any], event: dict[str, Any]) -> None:
        in_background(handler(ctx, EventRequest(body=body, event=event)), kind=str(event.get("type")))

    listener.__name__ = listener.__qualname__ = getattr(handler, "__name__", "listener")
    return listener
