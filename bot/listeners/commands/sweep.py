"""`/tune sweep <dataset> epochs=2,4 …`: every combination as a job, the same held-out split;
`/tune sweep` alone opens the sweep form (bot/listeners/views/sweep.py)."""

from __future__ import annotations

from functools import partial

from bot.listeners.requests import CommandRequest
from bot.listeners.sweep_flow import run_checked_sweep, sweep_refusal
from bot.presentation import blocks
from bot.presentation.sweep_form import sweep_modal
from bot.presentation.sweeps import SWEEP_CANCEL_USAGE, sweep_cancel_text, sweep_needs_vertex_text
from bot.services.sweeps import cancel_sweep
from bot.slack.context import AppContext
from bot.slack.jobs import show_cancelled_job
from bot.slack.sweep_commands import parse_sweep


async def run_sweep(ctx: AppContext, request: CommandRequest) -> None:
    head, _, rest = request.rest.strip().partition(" ")
    if head.lower() == "cancel":
        await stop_sweep(ctx, request, rest.strip())
        return
    if not request.rest.strip():
        await open_sweep_form(ctx, request)
        return
    args = parse_sweep(request.rest)
    refused = sweep_refusal(ctx, args)
    if refused:
        await request.ack(text=refused)
        return
    await run_checked_sweep(
        ctx,
        team_id=request.team_id,
        user_id=request.user_id,
        channel_id=request.channel_id,
        args=args,
        first=lambda text: request.ack(text=text),
        then=partial(request.respond, response_type="ephemeral"),
    )


async def open_sweep_form(ctx: AppContext, request: CommandRequest) -> None:
    """`/tune sweep` alone: the sweep form (on Vertex AI, with a dataset to sweep)."""
    if ctx.backend.name != "vertex":
        await request.ack(text=sweep_needs_vertex_text(ctx.backend.name))
        return
    shown = await ctx.store.run(ctx.store.datasets.display_names, request.team_id)
    if not shown:
        await request.ack(text=blocks.no_datasets_text())
        return
    await request.ack()
    view = sweep_modal(
        request.channel_id,
        request.user_id,
        list(shown),
        ctx.backend.base_models,
        sweep_max=ctx.settings.sweep_max,
        display_names=shown,
    )
    await ctx.client.views_open(trigger_id=request.trigger_id, view=view)


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
