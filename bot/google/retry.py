"""When and how long to wait before retrying a Google API call. Pure: no I/O, no clock."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bot.google.errors import RETRYABLE_STATUS_CODES, GoogleAPIError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter.

    Attempt n (1-based) that failed waits `uniform(0, min(max_delay, base_delay * 2**(n-1)))`,
    unless the service said how long (Retry-After / RetryInfo): then that, capped at
    `max_retry_after`. Retries 429/500/503/504 answers, connect errors and timeouts;
    never any other 4xx.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    retry_statuses: frozenset[int] = RETRYABLE_STATUS_CODES

    def is_retryable(self, error: BaseException) -> bool:
        if isinstance(error, GoogleAPIError):
            return error.code in self.retry_statuses
        return isinstance(error, httpx.TransportError)

    def should_retry(self, attempt: int, error: BaseException) -> bool:
        """Whether to try again after `attempt` (1-based) failed with `error`."""
        return attempt < self.max_attempts and self.is_retryable(error)

    def delay(
        self,
        attempt: int,
        retry_after: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return rand() * ceiling


NO_RETRY = RetryPolicy(max_attempts=1)
