"""The sweep form's submission: a sweep, as `/tune sweep` starts it (a field's mistake is shown
on the field, before the form closes)."""

from __future__ import annotations

from functools import partial

from bot.domain.errors import UserError
from bot.listeners.replies import tell_or_dm
from bot.listeners.requests import ViewRequest
from bot.listeners.sweep_flow import run_checked_sweep, sweep_refusal
from bot.listeners.views.form import private_metadata, view_values
from bot.presentation.errors import error_text
from bot.presentation.jobs import no_validation_dataset_text
from bot.presentation.sweep_form import sweep_field_error
from bot.services.datasets import lookup_dataset
from bot.slack.context import AppContext
from bot.slack.sweep_commands import sweep_from_form


async def sweep_submitted(ctx: AppContext, request: ViewRequest) -> None:
    args, problems = sweep_from_form(view_values(request.view))
    refused = sweep_refusal(ctx, args) if args is not None else None
    if args is not None and refused:  # the backend on the dataset; too many on the grid's fields
        many = [key for key, values in args.grid if len(values) > 1]
        problems = dict.fromkeys(many if ctx.backend.name == "vertex" else ["dataset"], refused)
        args = None
    errors = {field: sweep_field_error(text) for field, text in problems.items()}
    held_out = args.starts[0].validation if args is not None else None
    wanted = held_out.dataset if held_out is not None else None
    if wanted is not None and await ctx.store.run(lookup_dataset, ctx.store, request.team_id, wanted) is None:
        # Checked before the form closes, so a mistyped name is fixed in place.
        errors, args = {"validation": no_validation_dataset_text(wanted)}, None
    if args is None:
        await request.ack(response_action="errors", errors=errors)
        return
    await request.ack()
    user_id = request.user_id
    channel_id = private_metadata(request.view).get("channel_id") or user_id
    tell = partial(tell_or_dm, ctx, channel_id, user_id)
    try:
        await run_checked_sweep(
            ctx,
            team_id=request.team_id,
            user_id=user_id,
            channel_id=channel_id,
            args=args,
            first=tell,
            then=tell,
        )
    except UserError as exc:
        await tell(error_text(exc))
