"""Handling each Slack delivery once: event ids (Slack retries deliveries) and trigger_ids
(a replayed signed request carries one seen before), remembered in the database so
replicas share what they saw."""

from __future__ import annotations

import hashlib
from typing import Any

from bot.domain.errors import StorageUnavailable
from bot.slack.commands import split_command
from bot.slack.context import AppContext
from bot.storage.engine import writes_or_unavailable


async def first_time(ctx: AppContext, key: str) -> bool:
    """`Store.first_delivery` off the event loop. A database that cannot write now counts
    as a first delivery: the request is handled, and its own write reports the problem."""
    try:
        with writes_or_unavailable():
            return await ctx.store.run(ctx.store.events.first_delivery, key)
    except StorageUnavailable:
        return True


def trigger_key(trigger_id: str) -> str:
    """The de-duplication key of a trigger_id (fits the 64-character event id column)."""
    return "trigger:" + hashlib.sha256(trigger_id.encode()).hexdigest()[:48]


# Answered from the database without changing anything: a replay of one does no harm,
# so these skip the write (they are most of the traffic, and the ack should stay quick).
READ_ONLY_COMMANDS = frozenset({"help", "?", "status", "datasets", "list"})


def replay_matters(body: dict[str, Any]) -> bool:
    """Whether a repeat of this request could change something (start a job, post, delete)."""
    if "command" in body:
        return split_command(str(body.get("text") or "")).name not in READ_ONLY_COMMANDS
    return True
