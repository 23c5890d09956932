"""Which failed Slack Web API calls slack_sdk may send again.

A `ratelimited` (429) answer means Slack did nothing: always safe to resend. A 5xx
answer or a connection that broke after the request went out is ambiguous: Slack may
have stored the message already. Posting methods are therefore resent only when the
request certainly never left (the connection could not be opened); otherwise the
caller decides (the job reporter looks for the message by its metadata first).
Reads and edits (conversations.*, chat.update, …) are idempotent and resent as before.

slack_sdk's handlers wait with `asyncio.sleep`; ours wait with their `sleep` (`PacedRetryHandler`),
the same waits by default, so a test can take the wall clock out of a rate limit.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
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

Sleep = Callable[[float], Awaitable[None]]

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


class PacedRetryHandler(AsyncRetryHandler):
    """A retry handler that waits between attempts with `sleep` (default `asyncio.sleep`)."""

    def __init__(self, max_retry_count: int = 1, *, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.sleep = sleep

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        await self.sleep(self.wait_seconds(state, response, error))
        state.increment_current_attempt()

    def wait_seconds(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float:
        """How long to wait before the next attempt: slack_sdk's backoff by default."""
        return float(self.interval_calculator.calculate_sleep_duration(state.current_attempt))


class PacedRateLimitRetryHandler(PacedRetryHandler, AsyncRateLimitErrorRetryHandler):
    """slack_sdk's `ratelimited` retry: waits Retry-After seconds (1 without the header) plus
    up to a second of jitter."""

    def __init__(
        self,
        max_retry_count: int = 1,
        *,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count, sleep=sleep)
        self.jitter = jitter

    def wait_seconds(
        self, state: RetryState, response: HttpResponse | None, error: Exception | None
    ) -> float:
        if response is None:  # not a 429 answer after all: nothing to wait for
            raise error if error is not None else RuntimeError("no response to a rate-limited call")
        return retry_after_seconds(response) + self.jitter()


def retry_after_seconds(response: HttpResponse | None) -> int:
    """A 429 answer's Retry-After (whole seconds, as Slack sends it); 1 when it is missing."""
    headers = response.headers if response is not None else {}
    for name, values in headers.items():
        if name.lower() == "retry-after":
            return int(values[0])
    return 1


class _PostSafeRetryHandler(PacedRetryHandler):
    """Declines to resend a post unless `resend_post_allowed` says the request never left."""

    def resend_post_allowed(self, error: Exception | None) -> bool:
        return False

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request) in NOT_IDEMPOTENT and not self.resend_post_allowed(error):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class SafeServerErrorRetryHandler(_PostSafeRetryHandler, AsyncServerErrorRetryHandler):
    """slack_sdk's 500/503 retry, except for posts (the post may be stored)."""


class SafeConnectionErrorRetryHandler(_PostSafeRetryHandler, AsyncConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry; posts only when the request never left."""

    def resend_post_allowed(self, error: Exception | None) -> bool:
        return never_sent(error)


def retry_handlers(sleep: Sleep = asyncio.sleep) -> list[AsyncRetryHandler]:
    """Rate limits (honouring Retry-After), then the two ambiguous kinds, made safe; all
    wait between attempts with `sleep`."""
    return [
        PacedRateLimitRetryHandler(max_retry_count=5, sleep=sleep),
        SafeServerErrorRetryHandler(max_retry_count=2, sleep=sleep),
        SafeConnectionErrorRetryHandler(max_retry_count=2, sleep=sleep),
    ]
