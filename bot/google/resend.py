"""One API call sent until it succeeds, fails for good, or the retry policy gives up.

Shared by the Gemini and the Vertex AI clients: both speak Google's JSON error body,
both back off the same way, they differ only in how a request is built, which error
classes they raise and whether a cut-off request may be sent again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.google.errors import GoogleAPIError, GoogleConnectionError
from bot.google.retry import RetryPolicy

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Attempts:
    """How many times one logical call was sent (so create knows a 409 may be its own echo)."""

    count: int = 0


@dataclass(frozen=True)
class Service:
    """What differs between the services: log prefix and the error classes raised."""

    name: str
    logger: logging.Logger
    api_error: type[GoogleAPIError]
    connection_error: type[GoogleConnectionError]


def always(_: httpx.TransportError) -> bool:
    return True


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    service: Service,
    method: str,
    path: str,
    policy: RetryPolicy,
    sleep: Sleep,
    rand: Callable[[], float] = random.random,
    attempts: Attempts | None = None,
    may_resend: Callable[[httpx.TransportError], bool] = always,
) -> Any:
    """The decoded JSON body of the first successful answer to `send()` (`{}` if empty).

    Raises `service.api_error` for an error answer and `service.connection_error` when no
    answer came, once `policy` gives up or `may_resend` says a failed send may have been
    acted on.
    """
    counter = attempts or Attempts()
    log = service.logger
    while True:
        counter.count += 1
        attempt = counter.count
        error: GoogleAPIError | httpx.TransportError
        log.debug("%s %s %s (attempt %d)", service.name, method, path, attempt)
        try:
            response = await send()
        except httpx.TransportError as exc:
            error = exc
        else:
            if response.is_success:
                return response.json() if response.content.strip() else {}
            error = service.api_error.from_response(response)
        retryable = policy.should_retry(attempt, error)
        if isinstance(error, httpx.TransportError) and not may_resend(error):
            retryable = False
        if not retryable:
            if isinstance(error, GoogleAPIError):
                raise error
            raise service.connection_error(
                f"{method} {path}: {type(error).__name__}: {error}".rstrip(": "), method=method, path=path
            ) from error
        if isinstance(error, GoogleAPIError):
            wait = policy.delay(attempt, error.retry_after, rand)
            reason = f"{error.code} {error.status}"
        else:
            wait = policy.delay(attempt, None, rand)
            reason = type(error).__name__
        log.warning(
            "%s %s %s failed (%s); retry %d/%d in %.2fs",
            service.name,
            method,
            path,
            reason,
            attempt,
            policy.max_attempts - 1,
            wait,
        )
        await sleep(wait)
