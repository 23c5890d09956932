"""The start modal's submission: a tuning job (a field's mistake is shown on the field)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.domain.errors import UsageError, UserError
from bot.listeners.estimates import start_estimate
from bot.listeners.replies import tell_or_dm
from bot.listeners.requests import ViewRequest
from bot.listeners.spend import form_spend_refusal
from bot.listeners.views.form import private_metadata, view_values
from bot.presentation.datasets import start_form_estimate_text
from bot.presentation.errors import error_text
from bot.presentation.jobs import (
    CHECKPOINT_NEEDS_MODEL_TEXT,
    CHOOSE_DATASET_TEXT,
    no_validation_dataset_text,
    validation_note,
)
from bot.presentation.text import plain_text
from bot.services.datasets import StartEstimate, lookup_dataset
from bot.services.jobs import resolve_base_model, start_epochs, start_job, validation_set
from bot.services.start_costs import with_epochs
from bot.slack.channels import ensure_member
from bot.slack.commands import (
    OPTION_PARSERS,
    StartArgs,
    check_display_name,
)
from bot.slack.context import AppContext
from bot.slack.jobs import announce_new_job


def start_args_from_view(values: dict[str, Any]) -> tuple[StartArgs | None, dict[str, str]]:
    """Validated form input, or Slack's per-field errors."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    checks: dict[str, Callable[[str], object]] = {**OPTION_PARSERS, "name": check_display_name}
    for field, check in checks.items():
        value = values.get(field)
        if value is None and field != "validation":
            parsed[field] = None  # left empty or not on the form: the backend's default
            continue
        try:
            parsed[field] = check(value or "")
        except UsageError as exc:
            errors[field] = plain_text(str(exc))
    if not values.get("dataset"):
        errors["dataset"] = CHOOSE_DATASET_TEXT
    if parsed.get("checkpoint") is not None and parsed.get("from") is None:
        errors["checkpoint"] = CHECKPOINT_NEEDS_MODEL_TEXT
    if errors:
        return None, errors
    return (
        StartArgs(
            dataset=values["dataset"],
            display_name=parsed["name"],
            epoch_count=parsed["epochs"],
            batch_size=parsed["batch_size"],
            learning_rate=parsed["learning_rate"],
            # Continuing from a model tunes its base model: the form's choice does not apply.
            base_model=values.get("base_model") if parsed.get("from") is None else None,
            validation=parsed["validation"],
            learning_rate_multiplier=parsed["learning_rate_multiplier"],
            adapter_size=parsed["adapter_size"],
            export_last_checkpoint_only=parsed["export_last_checkpoint_only"],
            from_model=parsed.get("from"),
            from_checkpoint=parsed.get("checkpoint"),
        ),
        {},
    )


async def start_submitted(ctx: AppContext, request: ViewRequest) -> None:
    args, errors = start_args_from_view(view_values(request.view))
    wanted = args.validation.dataset if args is not None and args.validation is not None else None
    team_id = request.team_id
    if wanted is not None and await ctx.store.run(lookup_dataset, ctx.store, team_id, wanted) is None:
        # Checked before the form closes, so a mistyped name is fixed in place.
        errors = {"validation": no_validation_dataset_text(wanted)}
        args = None
    if args is None:
        await request.ack(response_action="errors", errors=errors)
        return
    await request.ack()
    meta = private_metadata(request.view)
    user_id = request.user_id
    channel_id = meta.get("channel_id") or user_id
    try:
        estimate = await form_estimate(ctx, team_id, args)
        who = {"team_id": team_id, "user_id": user_id, "channel_id": channel_id}
        refused = await form_spend_refusal(ctx, **who, args=args, estimate=estimate)
        if refused:  # the spend policy (issue #22): refused, or waiting for approval
            await tell_or_dm(ctx, channel_id, user_id, refused)
            return
        await ensure_member(ctx, channel_id)
        job = await start_job(
            ctx.store,
            ctx.backend,
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            args=args,
            hold_seconds=ctx.settings.lease_seconds,
            eval_examples=ctx.settings.eval_max_examples,
            limits=ctx.limits,
            cost=estimate.cost if estimate is not None else None,
        )
    except UserError as exc:
        await tell_or_dm(ctx, channel_id, user_id, error_text(exc))
        return
    problem = await announce_new_job(ctx, job)
    note = None
    if estimate is not None:  # with the epochs Vertex AI chose, when it chose them
        cost = with_epochs(estimate.cost, job.epoch_count or None)
        note = start_form_estimate_text(replace(estimate, cost=cost) if cost is not None else estimate)
    for extra in (validation_note(await ctx.store.run(validation_set, ctx.store, job)), note, problem):
        if extra:
            await tell_or_dm(ctx, channel_id, user_id, extra)


async def form_estimate(ctx: AppContext, team_id: str, args: StartArgs) -> StartEstimate | None:
    """The estimate of a start from the form (None when its dataset does not exist: the
    start then says so)."""
    dataset = await ctx.store.run(lookup_dataset, ctx.store, team_id, args.dataset)
    if dataset is None:
        return None
    return await start_estimate(
        ctx,
        dataset,
        epochs=start_epochs(ctx.backend, args),
        base_model=resolve_base_model(args.base_model, ctx.backend),
        validation=args.validation,
    )
