"""A Google client's error as the domain's `BackendError`: the one translation both backends use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.domain.errors import BackendError
from bot.google.errors import GoogleAPIError, GoogleConnectionError

Explain = Callable[[GoogleAPIError], str]
"""A backend's plain-word reason for an error answer (used instead of Google's own message)."""


def backend_error(
    exc: GoogleAPIError | GoogleConnectionError, *, explain: Explain | None = None
) -> BackendError:
    """`exc` for the layers above. No answer: retryable, "could not reach {service}: …". An error
    answer: Google's code, status and retry hints, and `explain(exc)` or else Google's message."""
    if isinstance(exc, GoogleConnectionError):
        return BackendError(f"could not reach {exc.service}: {exc}", retryable=True)
    return BackendError(
        explain(exc) if explain else exc.message,
        code=exc.code,
        status=exc.status,
        retryable=exc.is_retryable,
        not_found=exc.is_not_found,
        retry_after=exc.retry_after,
    )


@asynccontextmanager
async def translated_errors(explain: Explain | None = None) -> AsyncIterator[None]:
    """Raise a Google client's errors inside the block as `backend_error(...)` (chained)."""
    try:
        yield
    except (GoogleAPIError, GoogleConnectionError) as exc:
        raise backend_error(exc, explain=explain) from exc
