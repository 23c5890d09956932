"""`app_home_opened`: the person's Home tab is drawn (and redrawn on changes from then on)."""

from __future__ import annotations

from bot.listeners.requests import EventRequest
from bot.slack.context import AppContext


async def home_opened(ctx: AppContext, request: EventRequest) -> None:
    event = request.event
    if event.get("tab", "home") == "home" and ctx.home is not None:
        ctx.home.opened(request.team_id, event.get("user", ""))
