"""A sweep from its parsed grid to its started variants, the same for `/tune sweep` and the
sweep form: the checks, the estimates, the spend policy (one request for the sweep's total),
the starts, their job messages, and the "started" answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.domain.sweeps import SweepArgs
from bot.listeners.estimates import start_estimate
from bot.listeners.sweep_spend import sweep_spend_refusal
from bot.presentation.errors import error_text
from bot.presentation.sweeps import (
    sweep_estimate_text,
    sweep_needs_vertex_text,
    sweep_started_text,
    sweep_starting_text,
    too_many_variants_text,
)
from bot.services.jobs import chosen_base_model, start_epochs
from bot.services.sweeps import check_sweep, start_sweep
from bot.slack.channels import ensure_member
from bot.slack.context import AppContext
from bot.slack.jobs import announce_new_job

# Tells the person who asked for the sweep (the command's ack or respond; the form's note).
Say = Callable[[str], Awaitable[object]]


def sweep_refusal(ctx: AppContext, args: SweepArgs) -> str | None:
    """Why this sweep cannot run here at all (not Vertex AI, more variants than
    TUNEBOT_SWEEP_MAX); None when it can."""
    if ctx.backend.name != "vertex":
        return sweep_needs_vertex_text(ctx.backend.name)
    if len(args.starts) > ctx.settings.sweep_max:
        return too_many_variants_text(len(args.starts), ctx.settings.sweep_max)
    return None


async def run_checked_sweep(
    ctx: AppContext,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: SweepArgs,
    first: Say,
    then: Say,
) -> None:
    """Start the sweep `sweep_refusal` let through. `first` gets the policy's answer or the
    "starting" note (with the total estimate), `then` the "started" answer. A mistake a start
    would refuse is raised before anything starts (a UserError)."""
    dataset = await ctx.store.run(
        check_sweep, ctx.store, ctx.backend, team_id=team_id, args=args, limits=ctx.limits
    )
    estimates = []
    for start in args.starts:
        base_model = await ctx.store.run(
            chosen_base_model, ctx.store, ctx.backend, team_id=team_id, args=start
        )
        estimates.append(
            await start_estimate(
                ctx,
                dataset,
                epochs=start_epochs(ctx.backend, start),
                base_model=base_model,
                validation=start.validation,
            )
        )
    costs = [estimate.cost for estimate in estimates]
    who = {"team_id": team_id, "user_id": user_id, "channel_id": channel_id}
    held = await sweep_spend_refusal(ctx, **who, args=args, dataset=dataset, estimates=estimates)
    if held:  # the spend policy (issue #22): refused, or one approval request for the sweep
        await first(held)
        return
    await first(sweep_starting_text(args.dataset, len(args.starts), sweep_estimate_text(costs)))
    await ensure_member(ctx, channel_id)
    started = await start_sweep(
        ctx.store,
        ctx.backend,
        **who,
        args=args,
        dataset=dataset,
        hold_seconds=ctx.settings.lease_seconds,
        eval_examples=ctx.settings.eval_max_examples,
        limits=ctx.limits,
        costs=costs,
    )
    for job in started.jobs:
        await announce_new_job(ctx, job)
    refused = [(label, error_text(exc)) for label, exc in started.refused]
    assert started.sweep.id is not None
    await then(sweep_started_text(started.sweep.id, len(started.jobs), refused))
