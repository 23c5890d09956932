"""The policy form's submission (admins): every field checked, a mistake shown on its field;
the changes stored and audited, told in the admin's DM, and the Home tabs redrawn."""

from __future__ import annotations

from bot.domain.policy import PolicyKey, PolicyValueError, policy_values, with_value
from bot.listeners.requests import ViewRequest
from bot.listeners.views.form import view_values
from bot.presentation.spend import bad_value_text, not_admin_text, policy_changed_text
from bot.presentation.text import plain_text
from bot.services.spend import set_policy, team_policy
from bot.slack.context import AppContext
from bot.slack.extras import optional


async def policy_submitted(ctx: AppContext, request: ViewRequest) -> None:
    user_id = request.user_id
    if user_id not in ctx.admins:
        await request.ack(
            response_action="errors",
            errors={PolicyKey.STARTERS.value: plain_text(not_admin_text(ctx.admins))},
        )
        return
    values = view_values(request.view)
    defaults = ctx.settings.spend_policy()
    current = (await ctx.store.run(team_policy, ctx.store, request.team_id, defaults)).policy
    shown = policy_values(current)
    changes: list[tuple[PolicyKey, str]] = []
    errors: dict[str, str] = {}
    for key in PolicyKey:
        typed = str(values.get(key.value) or "none")
        try:
            with_value(current, key, typed)
        except PolicyValueError as exc:
            errors[key.value] = plain_text(bad_value_text(key, typed, str(exc)))
            continue
        if typed != shown[key]:
            changes.append((key, typed))
    if errors:
        await request.ack(response_action="errors", errors=errors)
        return
    await request.ack()
    done = await ctx.store.run(
        set_policy,
        ctx.store,
        team_id=request.team_id,
        actor_user_id=user_id,
        changes=changes,
        defaults=defaults,
    )
    done = [change for change in done if change.changed]
    ctx.home_changed(request.team_id)
    if done:
        # Submitted from the Home tab: no message to answer in, so the answer comes as a DM.
        await optional("telling an admin the policy changed", _dm(ctx, user_id, policy_changed_text(done)))


async def _dm(ctx: AppContext, user_id: str, text: str) -> bool:
    await ctx.client.chat_postMessage(channel=user_id, text=text)
    return True
