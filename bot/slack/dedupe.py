"""Handling each Slack delivery once: event ids (Slack retries deliveries) and trigger_ids
(a replayed signed request carries one seen before), remembered in the database so
replicas share what they saw."""

from __future__ import annotations

import hashlib
from typing import Any

from bot.domain.errors import StorageUnavailable
from bot.presentation import approvals
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


# Clicks whose effect is decided once in the database whatever repeats it (an approval
# request moves out of `pending` in one conditional UPDATE): a replay is refused as "already
# decided" by the handler itself, so the ack need not wait for a trigger_id write first
# (issue #22: an Approve click's ack p99 under 100 ms with many approvers clicking at once).
DECIDED_ONCE_ACTIONS = frozenset({approvals.ACTION_APPROVE, approvals.ACTION_WITHDRAW})


def replay_matters(body: dict[str, Any]) -> bool:
    """Whether a repeat of this request could change something (start a job, post, delete)."""
    if "command" in body:
        return split_command(str(body.get("text") or "")).name not in READ_ONLY_COMMANDS
    if body.get("type") == "block_actions":
        actions = body.get("actions") or []
        ids = {str(a.get("action_id")) for a in actions if isinstance(a, dict)}
        return not ids or not ids <= DECIDED_ONCE_ACTIONS
    return True
