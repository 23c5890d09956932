"""Every Bolt listener of tunebot: one small module per `/tune` subcommand (`commands/`),
button (`actions/`), modal submission (`views/`) and event (`events/`), each registered
from its package's table. A listener is `async def (ctx: AppContext, request) -> None`
(see `requests.py`), so it can be imported and called alone."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, events, views
from bot.slack.context import AppContext


def register(app: AsyncApp, ctx: AppContext) -> None:
    commands.register(app, ctx)
    views.register(app, ctx)
    actions.register(app, ctx)
    events.register(app, ctx)
