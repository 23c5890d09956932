"""The front door of `/slack/events` in HTTP mode: what is checked before Bolt sees a request.

1. The body is read only up to `MAX_BODY_BYTES` (a Content-Length over it is refused
   before a byte is read, a longer stream as soon as it passes the limit): 413.
2. Slack's signature: `X-Slack-Request-Timestamp` must be a whole number of seconds
   within five minutes of now, `X-Slack-Signature` the HMAC-SHA256 of
   `v0:{timestamp}:{body}` with the signing secret: otherwise 401 (never 500).
   Slack's `ssl_check=1` (a certificate probe, unsigned) is answered 200 before this
   check and does nothing else, as Bolt does.
3. A refusal is logged as one line naming the reason, never the body (it holds
   `response_url`, user ids and text).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs

from starlette.requests import Request

# Slack's own payloads are a few KiB (a view submission with a large modal tens of KiB).
MAX_BODY_BYTES = 1024 * 1024
MAX_CLOCK_SKEW_SECONDS = 5 * 60
_TIMESTAMP_DIGITS = 12  # far beyond any real Unix time; keeps int() away from huge inputs


class Refused(Exception):
    """The request is answered `status` without reaching Bolt; `reason` is safe to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing (413) anything larger than `limit` before buffering it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise Refused(400, "malformed Content-Length")
        if int(declared) > limit:
            raise Refused(413, f"body of {int(declared):,} bytes is over the {limit:,}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body over the {limit:,}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def is_ssl_check(headers: Mapping[str, str], body: bytes) -> bool:
    """Slack's certificate probe: a form whose one `ssl_check` value is `1`. It carries
    no user, no command and no signature, and is answered 200 with nothing done."""
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return False
    try:
        form = parse_qs(body.decode("utf-8"), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == ["1"]


def check_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    clock: Callable[[], float] = time.time,
) -> None:
    """Raise Refused(401) unless `body` is signed by Slack with `secret`, recently."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not secret:
        raise Refused(401, "no signing secret is configured")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _TIMESTAMP_DIGITS):
        raise Refused(401, "signature timestamp is not a whole number of seconds")
    if abs(clock() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise Refused(401, "signature timestamp is more than five minutes away")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "signature does not match")
