"""The spend policy at a start (issue #22): allowed, refused (a private answer naming the rule,
the limit and the month's spend), or waiting for approval (nothing is sent to Google). One call
at each start (`/tune start` and the start form), before anything is started."""

from __future__ import annotations

from bot.domain.requests import StartArgs
from bot.domain.spend import Starters, Verdict
from bot.listeners.estimates import start_estimate
from bot.presentation.spend import groups_unknown_text, needs_approval_text, refusal_text
from bot.services.datasets import StartEstimate
from bot.services.jobs import check_start, resolve_base_model, start_epochs
from bot.services.spend import check_spend, on_needs_approval, start_cost, with_groups
from bot.slack.context import AppContext
from bot.storage.models import Dataset


async def spend_refusal(
    ctx: AppContext, *, team_id: str, user_id: str, channel_id: str, dataset: Dataset, estimate: StartEstimate
) -> str | None:
    """None when the policy lets this start go ahead; else what to tell the user (refused, or
    waiting for approval)."""
    spend = await ctx.store.run(
        check_spend,
        ctx.store,
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        estimate=start_cost(estimate),
        defaults=ctx.settings.spend_policy(),
        zone=ctx.settings.zone,
    )
    if spend.policy.starters is Starters.GROUPS:  # who is in the groups: Slack knows (cached)
        groups = await ctx.groups.groups_of(ctx.client, user_id, spend.policy.allowed)
        if groups is None:
            return groups_unknown_text()
        spend = with_groups(spend, groups)
    if spend.decision.verdict is Verdict.ALLOW:
        return None
    if spend.decision.verdict is Verdict.REFUSE:
        return refusal_text(spend)
    needed = await ctx.store.run(on_needs_approval, ctx.store, spend=spend, dataset=dataset.display_name)
    return needs_approval_text(needed)


async def form_spend_refusal(
    ctx: AppContext,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: StartArgs,
    estimate: StartEstimate | None,
) -> str | None:
    """`spend_refusal` for the start form, which has not checked the start yet (a mistake the
    start would refuse is raised here, as a UserError)."""
    dataset = await ctx.store.run(
        check_start, ctx.store, ctx.backend, team_id=team_id, args=args, limits=ctx.limits
    )
    if estimate is None:
        estimate = await start_estimate(
            ctx,
            dataset,
            epochs=start_epochs(ctx.backend, args),
            base_model=resolve_base_model(args.base_model, ctx.backend),
            validation=args.validation,
        )
    return await spend_refusal(
        ctx, team_id=team_id, user_id=user_id, channel_id=channel_id, dataset=dataset, estimate=estimate
    )
