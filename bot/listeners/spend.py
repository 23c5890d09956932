"""The spend policy at a start (issue #22): allowed, refused (a private answer naming the rule,
the limit and the month's spend), or waiting for approval (nothing is sent to Google). One call
at each start (`/tune start` and the start form), before anything is started."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.approvals import ApprovalStart, given_hyperparameters
from bot.domain.requests import StartArgs
from bot.domain.spend import Starters, Verdict
from bot.listeners.estimates import start_estimate
from bot.presentation.spend import groups_unknown_text, refusal_text
from bot.services.datasets import StartEstimate
from bot.services.jobs import check_start, resolve_base_model, start_epochs
from bot.services.spend import SpendCheck, check_spend, start_cost, with_groups
from bot.slack.approvals import ask_approval
from bot.slack.context import AppContext
from bot.storage.models import Dataset


async def decide_spend(
    ctx: AppContext, *, team_id: str, user_id: str, channel_id: str, estimate: Decimal | None
) -> SpendCheck | str:
    """The policy's decision on spending `estimate` (a start's, or a sweep's total), with the
    user's groups asked of Slack (cached) when the policy names groups; a str is the answer to
    give when Slack cannot say who is in them."""
    spend = await ctx.store.run(
        check_spend,
        ctx.store,
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        estimate=estimate,
        defaults=ctx.settings.spend_policy(),
        zone=ctx.settings.zone,
    )
    if spend.policy.starters is Starters.GROUPS:
        groups = await ctx.groups.groups_of(ctx.client, user_id, spend.policy.allowed)
        if groups is None:
            return groups_unknown_text()
        spend = with_groups(spend, groups)
    return spend


async def spend_refusal(
    ctx: AppContext,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: StartArgs,
    dataset: Dataset,
    estimate: StartEstimate,
) -> str | None:
    """None when the policy lets this start go ahead; else what to tell the user (refused, or
    waiting for approval)."""
    spend = await decide_spend(
        ctx, team_id=team_id, user_id=user_id, channel_id=channel_id, estimate=start_cost(estimate)
    )
    if not isinstance(spend, SpendCheck):
        return spend
    if spend.decision.verdict is Verdict.ALLOW:
        return None
    if spend.decision.verdict is Verdict.REFUSE:
        return refusal_text(spend)
    # Over a limit that asks: a request to the approvers (bot/slack/approvals.py); nothing starts.
    assert dataset.id is not None
    start = ApprovalStart(
        args=args,
        dataset_id=dataset.id,
        dataset_name=dataset.display_name,
        base_model=estimate.base_model,
        summary=f"{dataset.example_count:,} examples, ≈ {estimate.insight.total_tokens:,} tokens",
        hyperparameters=given_hyperparameters(args),
        estimate=spend.check.estimate,
    )
    decision = spend.decision
    return await ask_approval(
        ctx,
        team_id=team_id,
        requester_user_id=user_id,
        channel_id=channel_id,
        starts=[start],
        currency=spend.policy.currency,
        month_spent=decision.spent if decision.spent is not None else spend.check.user_spent,
        decision=decision,
    )


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
        ctx,
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        args=args,
        dataset=dataset,
        estimate=estimate,
    )
