"""Why tunebot cannot follow a job or a try thread in a conversation."""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc

PEOPLE_DM_REFUSAL = (
    ":x: I can't take part in a direct message between people. Use `/tune` in a channel, "
    "or in a direct message with me (tunebot in the sidebar, *Messages* tab)."
)
PRIVATE_REFUSAL = ":x: I'm not in this private channel. Invite me with `/invite @tunebot` and try again."


def is_direct_message(channel_id: str) -> bool:
    return channel_id.startswith("D")


def refusal_for(channel_id: str, error: str) -> str:
    """What to tell the user when Slack refused to let the bot post or read here."""
    if is_direct_message(channel_id):
        return PEOPLE_DM_REFUSAL
    if error in ("not_in_channel", "channel_not_found"):
        return PRIVATE_REFUSAL
    return f":x: Slack refused the message ({esc(error)})."
