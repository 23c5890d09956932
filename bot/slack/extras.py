"""Optional extras: what tunebot does beside the answer a user waits for (the length chart
in their DM, a Home tab redraw, joining a channel). Each one fails alone: whatever Slack
answers (an error, HTTP 500, a dropped connection, an `ok` answer missing what it should
carry) becomes one log line naming the extra and Slack's error code or the exception's
type, never a token, a request body or a response URL, and the caller carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

T = TypeVar("T")


class UnexpectedAnswer(Exception):
    """Slack answered `ok` without what the method promises (its message says what)."""


def failure_reason(exc: BaseException) -> str:
    """Slack's error code, or the exception's type: short, and never a secret."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return str(error or "unknown")
    if isinstance(exc, UnexpectedAnswer):
        return str(exc)
    return type(exc).__name__


async def optional(what: str, call: Awaitable[T]) -> T | None:
    """Await an optional extra; on failure log "`what` failed: <reason>" and return None.

    Slack's refusals, HTTP errors, broken connections, timeouts and unexpected answers
    are expected: one warning line. Anything else is a bug: logged with its traceback,
    and still swallowed, so that the user's answer goes out all the same."""
    try:
        return await call
    except (SlackApiError, UnexpectedAnswer, aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("%s failed: %s", what, failure_reason(exc))
    except Exception:
        log.exception("%s failed", what)
    return None


def channel_id_of(opened: Any) -> str:
    """The `channel.id` of a conversations.open answer (UnexpectedAnswer when missing)."""
    channel = opened.get("channel") if opened is not None else None
    channel_id = channel.get("id") if isinstance(channel, dict) else None
    if not isinstance(channel_id, str) or not channel_id:
        raise UnexpectedAnswer("conversations.open answered ok without a channel id")
    return channel_id
