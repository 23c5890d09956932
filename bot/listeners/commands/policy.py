"""`/tune policy`: the spending policy, to anyone; `/tune policy set <key> <value>` and
`/tune policy reset` (back to the settings), for admins. Answers are private."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.domain.policy import KEY_ALIASES, PolicyKey, PolicyValueError, parse_key
from bot.listeners.requests import CommandRequest
from bot.presentation.spend import (
    bad_value_text,
    not_admin_text,
    policy_changed_text,
    policy_text,
    policy_usage_text,
    unknown_key_text,
)
from bot.services.spend import PolicyChange, reset_policy, set_policy, team_policy
from bot.slack.commands import did_you_mean
from bot.slack.context import AppContext


async def show_policy(ctx: AppContext, request: CommandRequest) -> None:
    words = request.rest.split(None, 2)
    action = words[0].lower() if words else ""
    admin = request.user_id in ctx.admins
    if not action:
        team = await ctx.store.run(team_policy, ctx.store, request.team_id, ctx.settings.spend_policy())
        await request.ack(text=policy_text(team, admin=admin, zone=ctx.settings.time_zone))
        return
    if action not in ("set", "reset"):
        raise UsageError(policy_usage_text(request.rest))
    if not admin:
        raise UsageError(not_admin_text(ctx.admins))
    if action == "reset":
        changes = await ctx.store.run(
            reset_policy,
            ctx.store,
            team_id=request.team_id,
            actor_user_id=request.user_id,
            defaults=ctx.settings.spend_policy(),
        )
    else:
        if len(words) < 3:
            raise UsageError(policy_usage_text())
        key = parse_key(words[1])
        if key is None:
            raise UsageError(unknown_key_text(words[1], _guess(words[1])))
        changes = await _set(ctx, request, key, words[2])
    ctx.home_changed(request.team_id)
    await request.ack(text=policy_changed_text(changes))


async def _set(ctx: AppContext, request: CommandRequest, key: PolicyKey, value: str) -> list[PolicyChange]:
    try:
        return await ctx.store.run(
            set_policy,
            ctx.store,
            team_id=request.team_id,
            actor_user_id=request.user_id,
            changes=[(key, value)],
            defaults=ctx.settings.spend_policy(),
        )
    except PolicyValueError as exc:
        raise UsageError(bad_value_text(key, value, str(exc))) from None


def _guess(typed: str) -> str | None:
    guess = did_you_mean(typed.lower().replace("-", "_"), KEY_ALIASES)
    return KEY_ALIASES[guess].value if guess else None
