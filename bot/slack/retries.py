"""Which failed Slack Web API calls slack_sdk may send again.

A `ratelimited` (429) answer means Slack did nothing: always safe to resend. A 5xx
answer or a connection that broke after the request went out is ambiguous: Slack may
have stored the message already. Posting methods are therefore resent only when the
request certainly never left (the connection could not be opened); otherwise the
caller decides (the job reporter looks for the message by its metadata first).
Reads and edits (conversations.*, chat.update, …) are idempotent and resent as before.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

# Methods whose repetition shows the user something twice.
NOT_IDEMPOTENT = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "chat.meMessage",
        "files.completeUploadExternal",
        "files.upload",
    }
)


def method_of(request: HttpRequest) -> str:
    """ "chat.postMessage" from "https://slack.com/api/chat.postMessage"."""
    return urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]


def never_sent(error: Exception | None) -> bool:
    """The connection could not even be opened: Slack cannot have seen the request."""
    return isinstance(error, aiohttp.ClientConnectorError)


class SafeServerErrorRetryHandler(AsyncServerErrorRetryHandler):
    """slack_sdk's 500/503 retry, except for posts (the post may be stored)."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request) in NOT_IDEMPOTENT:
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class SafeConnectionErrorRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry; posts only when the request never left."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request) in NOT_IDEMPOTENT and not never_sent(error):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def retry_handlers() -> list[AsyncRetryHandler]:
    """Rate limits (honouring Retry-After), then the two ambiguous kinds, made safe."""
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=5),
        SafeServerErrorRetryHandler(max_retry_count=2),
        SafeConnectionErrorRetryHandler(max_retry_count=2),
    ]
