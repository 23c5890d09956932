"""What a Google API call can fail with, for every Google client in tunebot.

`GoogleAPIError` carries what Google's error body says
(`{"error": {"code": 404, "message": "...", "status": "NOT_FOUND", "details": [...]}}`);
bodies that are not JSON (a proxy's HTML page, a bare "Service Unavailable") still give
an error with the HTTP status and a short excerpt of the text. `GoogleConnectionError`
is a call that got no HTTP answer. Each client subclasses both, naming its `service`
(the Gemini API, Vertex AI), so callers can tell which service failed.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from typing import Any, ClassVar, Self

import httpx

RETRYABLE_STATUS_CODES = frozenset({429, 500, 503, 504})

HTTP_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")
_MAX_TEXT_EXCERPT = 200


class GoogleError(Exception):
    """Base class of everything a Google client raises."""

    service: ClassVar[str] = "Google"
    """The service in plain words, as in "could not reach {service}"."""


class GoogleConnectionError(GoogleError):
    """The request never got an HTTP answer (connect error, timeout, broken connection)."""

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class GoogleAPIError(GoogleError):
    """The service answered with an error status."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.status = status or HTTP_STATUS_NAMES.get(code, "UNKNOWN")
        self.message = message
        self.details = details or []
        self.retry_after = retry_after
        super().__init__(f"{code} {self.status}: {message}")

    @property
    def is_retryable(self) -> bool:
        return self.code in RETRYABLE_STATUS_CODES

    @property
    def is_not_found(self) -> bool:
        return self.code == 404

    @property
    def is_already_exists(self) -> bool:
        return self.code == 409

    @property
    def reason(self) -> str | None:
        """`ErrorInfo.reason` from the details (e.g. `API_KEY_INVALID`), if any."""
        for detail in self.details:
            if str(detail.get("@type", "")).endswith("google.rpc.ErrorInfo"):
                reason = detail.get("reason")
                return reason if isinstance(reason, str) else None
        return None

    @classmethod
    def from_response(cls, response: httpx.Response, *, now: float | None = None) -> Self:
        """The error an answer carries; a Retry-After date is measured from `now` (Unix
        seconds; the wall clock when None)."""
        code = response.status_code
        header_delay = parse_retry_after(response.headers.get("retry-after"), now=now)
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            message = error.get("message")
            status = error.get("status")
            details = [d for d in error.get("details") or [] if isinstance(d, dict)]
            body_delay = _retry_info_delay(details)
            return cls(
                code,
                message if isinstance(message, str) and message else response.reason_phrase or "error",
                status=status if isinstance(status, str) else None,
                details=details,
                retry_after=header_delay if header_delay is not None else body_delay,
            )
        text = " ".join(response.text.split())[:_MAX_TEXT_EXCERPT] if response.content else ""
        message = f"HTTP {code} {response.reason_phrase}".strip()
        if text:
            message = f"{message}: {text}"
        return cls(code, message, retry_after=header_delay)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """A Retry-After header (delay seconds or an HTTP date) -> seconds to wait, or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        current = time.time() if now is None else now
        return max(0.0, when.timestamp() - current)
    return max(0.0, seconds) if seconds == seconds else None  # NaN guard


def _retry_info_delay(details: list[dict[str, Any]]) -> float | None:
    for detail in details:
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = _DURATION.match(str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None
