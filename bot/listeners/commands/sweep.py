"""`/tune sweep <dataset> epochs=2,4 …`: every combination as a job, the same held-out split."""

from __future__ import annotations

from bot.listeners.estimates import start_estimate
from bot.listeners.requests import CommandRequest
from bot.listeners.sweep_spend import sweep_spend_refusal
from bot.presentation.errors import error_text
from bot.presentation.sweeps import (
    SWEEP_CANCEL_USAGE,
    sweep_cancel_text,
    sweep_estimate_text,
    sweep_needs_vertex_text,
    sweep_started_text,
    sweep_starting_text,
    too_many_variants_text,
)
from bot.services.jobs import chosen_base_model, start_epochs
from bot.services.sweeps import cancel_sweep, check_sweep, start_sweep
from bot.slack.channels import ensure_member
from bot.slack.context import AppContext
from bot.slack.jobs import announce_new_job, show_cancelled_job
from bot.slack.sweep_commands import parse_sweep


async def run_sweep(ctx: AppContext, request: CommandRequest) -> None:
    head, _, rest = request.rest.strip().partition(" ")
    if head.lower() == "cancel":
        await stop_sweep(ctx, request, rest.strip())
        return
    args = parse_sweep(request.rest)
    if ctx.backend.name != "vertex":
        await request.ack(text=sweep_needs_vertex_text(ctx.backend.name))
        return
    if len(args.starts) > ctx.settings.sweep_max:
        await request.ack(text=too_many_variants_text(len(args.starts), ctx.settings.sweep_max))
        return
    team = request.team_id
    dataset = await ctx.store.run(
        check_sweep, ctx.store, ctx.backend, team_id=team, args=args, limits=ctx.limits
    )
    estimates = []
    for start in args.starts:
        base_model = await ctx.store.run(chosen_base_model, ctx.store, ctx.backend, team_id=team, args=start)
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
    who = {"team_id": team, "user_id": request.user_id, "channel_id": request.channel_id}
    held = await sweep_spend_refusal(ctx, **who, args=args, dataset=dataset, estimates=estimates)
    if held:  # the spend policy (issue #22): refused, or one approval request for the sweep
        await request.ack(text=held)
        return
    await request.ack(text=sweep_starting_text(args.dataset, len(args.starts), sweep_estimate_text(costs)))
    await ensure_member(ctx, request.channel_id)
    started = await start_sweep(
        ctx.store,
        ctx.backend,
        team_id=team,
        user_id=request.user_id,
        channel_id=request.channel_id,
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
    text = sweep_started_text(started.sweep.id, len(started.jobs), refused)
    await request.respond(text=text, response_type="ephemeral")


async def stop_sweep(ctx: AppContext, request: CommandRequest, typed: str) -> None:
    """`/tune sweep cancel <id>` (its owner or an admin): cancels its running variants."""
    number = typed.removeprefix("#")
    if not number.isdigit() or not number.isascii():
        await request.ack(text=f"Which sweep? Usage: {SWEEP_CANCEL_USAGE}")
        return
    await request.ack()
    result = await cancel_sweep(
        ctx.store,
        ctx.backend,
        team_id=request.team_id,
        user_id=request.user_id,
        sweep_id=int(number),
        admins=ctx.admins,
        currency=ctx.settings.price_currency,
    )
    for job in result.cancelled:
        await show_cancelled_job(ctx, job)
    cancelled = [job.display_name for job in result.cancelled]
    others = [o.job.display_name for o in result.outcomes if o.kind != "cancelled" and o.job is not None]
    text = sweep_cancel_text(result.kind, result.sweep_id, cancelled, others)
    await request.respond(text=text, response_type="ephemeral")
