"""Slack Web API calls for messages that must appear once (job messages, notices, charts,
`/tune eval` reports): every failure becomes a `SlackCallFailed` that says whether Slack may
have done the work anyway, and a post is never resent blindly."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.polling.ports import ReporterError
from bot.slack.retries import never_sent

log = logging.getLogger(__name__)

HISTORY_PAGE = 200
# Slack's errors that say the call may have partly happened ("It's possible some aspect
# of the operation succeeded before the error was raised").
AMBIGUOUS_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})


class SlackCallFailed(ReporterError):
    """A Slack call that failed, with Slack's error code (or the connection error's name)."""

    def __init__(self, method: str, error: str, *, ambiguous: bool, retry_after: float | None = None) -> None:
        super().__init__(f"Slack {method} failed: {error}", ambiguous=ambiguous, retry_after=retry_after)
        self.error = error


def retry_after_of(response: Any) -> float:
    """A 429 answer's Retry-After in seconds (1 when it is missing or unreadable)."""
    for name, value in (getattr(response, "headers", None) or {}).items():
        if name.lower() == "retry-after":
            text = value[0] if isinstance(value, list) else value
            try:
                return max(0.0, float(text))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


async def call(client: AsyncWebClient, method: str, **kwargs: Any) -> Any:
    """`client.<method>(…)` without the None arguments; a failure is one log line and a
    SlackCallFailed (ambiguous when Slack may have acted: 5xx, `internal_error`, a connection
    cut after the request left)."""
    arguments = {key: value for key, value in kwargs.items() if value is not None}
    try:
        return await getattr(client, method)(**arguments)
    except SlackApiError as exc:
        error = str(exc.response.get("error")) if exc.response is not None else "unknown"
        status = exc.response.status_code if exc.response is not None else 0
        log.warning("Slack %s failed: %s", method, error)
        ambiguous = status >= 500 or error in AMBIGUOUS_ERRORS
        retry_after = retry_after_of(exc.response) if status == 429 else None
        raise SlackCallFailed(method, error, ambiguous=ambiguous, retry_after=retry_after) from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        log.warning("Slack %s failed: %s", method, type(exc).__name__)
        raise SlackCallFailed(method, type(exc).__name__, ambiguous=not never_sent(exc)) from exc


async def paged(client: AsyncWebClient, method: str, **arguments: Any) -> AsyncIterator[dict[str, Any]]:
    """Every message of a conversations.* listing, with metadata, page by page."""
    cursor: str | None = None
    joined = False
    while True:
        try:
            response = await call(
                client, method, include_all_metadata=True, limit=HISTORY_PAGE, cursor=cursor, **arguments
            )
        except SlackCallFailed as exc:
            if joined or exc.error != "not_in_channel":
                raise
            # Slack shows history only to members: a message posted in a public channel through
            # chat:write.public (before tunebot joined channels) is read after joining it.
            await call(client, "conversations_join", channel=arguments["channel"])
            joined = True
            continue
        for message in response.get("messages") or []:
            yield message
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return


async def post_once(
    client: AsyncWebClient, find: Callable[[], Awaitable[str | None]], **arguments: Any
) -> str:
    """chat.postMessage, never resent blindly: after an ambiguous failure the message is
    looked for (by its metadata, through `find`) and its ts returned if Slack stored it;
    otherwise the error goes up and the caller tries again (looking first) later."""
    try:
        response = await call(client, "chat_postMessage", **arguments)
    except SlackCallFailed as exc:
        if not exc.ambiguous:
            raise
        found = await find()
        if found is None:
            raise
        log.info("Slack stored a message although its answer was lost (ts %s)", found)
        return found
    return str(response["ts"])
