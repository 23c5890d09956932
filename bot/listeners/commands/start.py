"""`/tune start`: alone, the start modal; with a dataset and options, a tuning job."""

from __future__ import annotations

from bot.listeners.estimates import start_estimate
from bot.listeners.requests import CommandRequest
from bot.listeners.spend import spend_refusal
from bot.presentation import blocks
from bot.presentation.datasets import start_estimate_text
from bot.presentation.jobs import starting_text, validation_note
from bot.services.jobs import check_start, chosen_base_model, start_epochs, start_job, validation_set
from bot.slack.channels import ensure_member
from bot.slack.commands import parse_start
from bot.slack.context import AppContext
from bot.slack.jobs import announce_new_job


async def start_tuning(ctx: AppContext, request: CommandRequest) -> None:
    if not request.rest:
        await open_start_modal(ctx, request)
        return
    args = parse_start(request.rest)
    dataset = await ctx.store.run(
        check_start, ctx.store, ctx.backend, team_id=request.team_id, args=args, limits=ctx.limits
    )
    base_model = await ctx.store.run(
        chosen_base_model, ctx.store, ctx.backend, team_id=request.team_id, args=args
    )
    estimate = await start_estimate(
        ctx,
        dataset,
        epochs=start_epochs(ctx.backend, args),
        base_model=base_model,
        validation=args.validation,
    )
    who = {"team_id": request.team_id, "user_id": request.user_id, "channel_id": request.channel_id}
    refused = await spend_refusal(ctx, **who, args=args, dataset=dataset, estimate=estimate)
    if refused:  # the spend policy (issue #22): refused, or waiting for approval
        await request.ack(text=refused)
        return
    await request.ack(text=starting_text(args.dataset, start_estimate_text(estimate)))
    await ensure_member(ctx, request.channel_id)
    job = await start_job(
        ctx.store,
        ctx.backend,
        team_id=request.team_id,
        user_id=request.user_id,
        channel_id=request.channel_id,
        args=args,
        hold_seconds=ctx.settings.lease_seconds,
        eval_examples=ctx.settings.eval_max_examples,
        limits=ctx.limits,
        cost=estimate.cost,
    )
    problem = await announce_new_job(ctx, job)
    for note in (validation_note(await ctx.store.run(validation_set, ctx.store, job)), problem):
        if note:
            await request.respond(text=note, response_type="ephemeral")


async def open_start_modal(ctx: AppContext, request: CommandRequest) -> None:
    shown = await ctx.store.run(ctx.store.datasets.display_names, request.team_id)
    names = list(shown)
    if not names:
        await request.ack(text=blocks.no_datasets_text())
        return
    await request.ack()
    view = blocks.start_modal(
        request.channel_id,
        request.user_id,
        names,
        ctx.backend.base_models,
        ctx.backend.options,
        display_names=shown,
    )
    await ctx.client.views_open(trigger_id=request.trigger_id, view=view)
