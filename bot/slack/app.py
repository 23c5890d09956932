"""The Bolt app: a Web API client pointed at `SLACK_API_URL`, and every listener."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.slack.context import AppContext
from bot.slack.dedupe import first_time, replay_matters, trigger_key
from bot.slack.home import HomeTab
from bot.slack.retries import retry_handlers
from bot.slack.spend import home_sections

log = logging.getLogger(__name__)


def make_web_client(settings: Settings) -> AsyncWebClient:
    """Slack's Web API client; retries after `ratelimited` (honouring Retry-After) and on
    connection and 5xx errors, except that a post is never resent once it may have been
    stored (see `bot.slack.retries`)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return AsyncWebClient(
        token=token, base_url=settings.slack_api_url, timeout=30, retry_handlers=retry_handlers()
    )


class _SkipClientTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that our client's token wins: it does, on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def build_app(ctx: AppContext, register: Callable[[AsyncApp, AppContext], None]) -> AsyncApp:
    """The Bolt app over `ctx`; `register` adds the listeners (bot.listeners.register, passed in by
    the composition root so that this adapter layer does not import the layer above it)."""
    signing_secret = ctx.settings.slack_signing_secret
    bolt_logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _SkipClientTokenNotice) for f in bolt_logger.filters):
        bolt_logger.addFilter(_SkipClientTokenNotice())
    app = AsyncApp(
        client=ctx.client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else "",
        request_verification_enabled=not ctx.settings.socket_mode,
        ignoring_self_events_enabled=True,
        # Answered the moment a listener acks, not at Bolt's next 10 ms check (bot.slack.acks).
        process_before_response=True,
        logger=bolt_logger,
    )

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        # Bolt only logs listener errors briefly; keep the traceback (never the payload: it may hold text).
        kind = body.get("type") or body.get("command") or "request"
        log.error("listener failed on %s", kind, exc_info=error)

    if ctx.home is None:
        ctx.home = HomeTab(
            ctx.client,
            ctx.store,
            sections=lambda team, user: home_sections(ctx.client, ctx.store, ctx.settings, team, user),
        )
    ctx.reporter.on_change = ctx.home.job_changed

    @app.middleware
    async def once_per_trigger(
        body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """A signed request replayed within Slack's five minutes carries a trigger_id seen
        before (each command, click and submission gets a fresh one): answer it, do nothing.
        Remembered in the database like event ids, so replicas share what they saw; read-only
        commands (help, status, datasets, list) are not remembered: repeating them is harmless."""
        trigger_id = body.get("trigger_id")
        if (
            isinstance(trigger_id, str)
            and trigger_id
            and replay_matters(body)
            and not await first_time(ctx, trigger_key(trigger_id))
        ):
            log.warning("ignoring a repeated request (its trigger_id was seen before)")
            return BoltResponse(status=200, body="")
        await next()
        return None

    register(app, ctx)
    return app
