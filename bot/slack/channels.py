"""Being where a job or a try thread starts: Slack sends message events, and answers
`conversations.history`/`replies`, only for conversations the bot is a member of.

A public channel is joined (`channels:join`; an optional extra: a failed join is logged
and the post goes ahead through chat:write.public); a private channel, or a direct message
between people, gets a clear refusal before anything is started there.
"""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.domain.errors import UserError
from bot.presentation.channels import PRIVATE_REFUSAL, refusal_for
from bot.slack.context import AppContext
from bot.slack.extras import failure_reason, optional

log = logging.getLogger(__name__)


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error")) if exc.response is not None else "unknown"


async def ensure_member(ctx: AppContext, channel_id: str) -> None:
    """Make sure the bot is in `channel_id` (joining a public channel), or raise UserError
    for a conversation it cannot be in. Anything else that goes wrong (Slack cannot say what
    the channel is, or will not let the bot join) is logged and the caller carries on: in a
    public channel the bot posts without joining (chat:write.public), and only replies in a
    try thread need it to be a member."""
    if channel_id[:1] in ("U", "W"):
        return  # a user id: posting there opens the bot's DM with them
    try:
        info = await ctx.client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        error = _error(exc)
        if error == "channel_not_found":
            raise UserError(refusal_for(channel_id, error)) from exc
        log.warning("conversations.info on %s failed (%s); trying anyway", channel_id, error)
        return
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning("conversations.info on %s failed (%s); trying anyway", channel_id, failure_reason(exc))
        return
    channel = info.get("channel") or {}
    if channel.get("is_im") or channel.get("is_member"):
        return
    if channel.get("is_private") or channel.get("is_mpim") or channel.get("is_group"):
        raise UserError(PRIVATE_REFUSAL)
    if await optional(f"joining {channel_id}", _join(ctx, channel_id)):
        log.info("joined %s to follow a job or a try thread there", channel_id)


async def _join(ctx: AppContext, channel_id: str) -> bool:
    await ctx.client.conversations_join(channel=channel_id)
    return True
