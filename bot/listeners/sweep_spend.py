"""The spend policy at a sweep (issue #23 item 1 with issue #22): the sweep is one start for its
total. Allowed, refused (the policy's answer), or one approval request carrying every variant
(each tagged with the sweep, so once approved they start on the sweep's held-out split)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot.domain.approvals import ApprovalStart, given_hyperparameters
from bot.domain.spend import Verdict
from bot.domain.sweeps import SweepArgs
from bot.listeners.spend import decide_spend
from bot.presentation.spend import refusal_text
from bot.services.datasets import StartEstimate
from bot.services.spend import SpendCheck, start_cost
from bot.services.sweeps import named_starts, record_sweep
from bot.slack.approvals import ask_approval
from bot.slack.context import AppContext
from bot.storage.models import Dataset


def sweep_total(estimates: Sequence[StartEstimate]) -> Decimal | None:
    """The sweep's estimated cost: the sum of its variants' (None when none is priced)."""
    known = [cost for cost in (start_cost(e) for e in estimates) if cost is not None]
    return sum(known, Decimal(0)) if known else None


async def sweep_spend_refusal(
    ctx: AppContext,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: SweepArgs,
    dataset: Dataset,
    estimates: Sequence[StartEstimate],
) -> str | None:
    """None when the policy lets the whole sweep start; else what to tell the user."""
    spend = await decide_spend(
        ctx, team_id=team_id, user_id=user_id, channel_id=channel_id, estimate=sweep_total(estimates)
    )
    if not isinstance(spend, SpendCheck):
        return spend
    if spend.decision.verdict is Verdict.ALLOW:
        return None
    if spend.decision.verdict is Verdict.REFUSE:
        return refusal_text(spend)
    assert dataset.id is not None
    sweep = await ctx.store.run(record_sweep, ctx.store, team_id, user_id, channel_id, args, dataset)
    starts = [
        ApprovalStart(
            args=start,
            dataset_id=dataset.id,
            dataset_name=dataset.display_name,
            base_model=estimate.base_model,
            summary=f"{dataset.example_count:,} examples, ≈ {estimate.insight.total_tokens:,} tokens",
            hyperparameters=given_hyperparameters(start),
            estimate=start_cost(estimate),
            sweep_id=sweep.id,
        )
        for start, estimate in zip(named_starts(args, dataset), estimates, strict=True)
    ]
    decision = spend.decision
    try:
        return await ask_approval(
            ctx,
            team_id=team_id,
            requester_user_id=user_id,
            channel_id=channel_id,
            starts=starts,
            currency=spend.policy.currency,
            month_spent=decision.spent if decision.spent is not None else spend.check.user_spent,
            decision=decision,
        )
    except BaseException:
        assert sweep.id is not None
        await ctx.store.run(ctx.store.sweeps.delete, sweep.id)
        raise
