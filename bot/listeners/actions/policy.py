"""The Home tab's "Change policy" button (admins): the policy form, filled with the policy."""

from __future__ import annotations

from bot.listeners.requests import ActionRequest
from bot.presentation.spend_home import policy_modal
from bot.services.spend import team_policy
from bot.slack.context import AppContext


async def edit_policy_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    if request.user_id not in ctx.admins:
        return  # the button is only drawn for admins; a forged click changes nothing
    team = await ctx.store.run(team_policy, ctx.store, request.team_id, ctx.settings.spend_policy())
    await ctx.client.views_open(trigger_id=str(request.body.get("trigger_id")), view=policy_modal(team))
