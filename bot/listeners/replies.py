"""Answers the listeners share: a note to one person, and Slack's refusals in words."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.channels import refusal_for
from bot.slack.context import AppContext

log = logging.getLogger(__name__)


def channel_refusal(exc: SlackApiError, channel_id: str) -> str:
    error = exc.response.get("error") if exc.response is not None else "unknown"
    return refusal_for(channel_id, esc(str(error)))


async def tell_or_dm(ctx: AppContext, channel_id: str, user_id: str, text: str) -> None:
    """An ephemeral note to one user; a DM when the channel will not take it."""
    try:
        await ctx.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except SlackApiError:
        log.warning("could not post an ephemeral message in %s; sending a DM instead", channel_id)
        await ctx.client.chat_postMessage(channel=user_id, text=text)


async def tell(ctx: AppContext, channel_id: str, user_id: str, text: str) -> None:
    """An ephemeral note to one user in the channel (logged, not retried, when refused)."""
    try:
        await ctx.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
    except SlackApiError:
        log.warning("could not post an ephemeral message in %s", channel_id)
