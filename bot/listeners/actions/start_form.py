"""The start form's estimate follows its fields: a new dataset, base model, epochs or
validation set (Slack's `dispatch_action` on those inputs) redraws the estimate block with
`views.update`; the other fields keep what the user typed."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.domain.errors import UsageError, UserError
from bot.domain.requests import StartArgs, ValidationChoice
from bot.listeners.estimates import start_estimate
from bot.listeners.requests import ActionRequest
from bot.listeners.views.form import view_values
from bot.presentation import blocks
from bot.presentation.costs import with_start_estimate
from bot.presentation.datasets import start_form_live_estimate
from bot.presentation.errors import error_text
from bot.presentation.text import plain_text
from bot.services.datasets import lookup_dataset
from bot.services.jobs import resolve_base_model, start_epochs
from bot.slack.commands import OPTION_PARSERS
from bot.slack.context import AppContext

log = logging.getLogger(__name__)


async def start_form_changed(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    view = request.body.get("view") or {}
    if view.get("callback_id") != blocks.START_CALLBACK or not view.get("id"):
        return
    text = await form_estimate_text(ctx, request.team_id, view_values(view))
    try:
        await ctx.client.views_update(
            view_id=view["id"], hash=view.get("hash"), view=with_start_estimate(view, text)
        )
    except (
        SlackApiError
    ) as exc:  # closed meanwhile, or changed again (hash_conflict): the next change redraws
        log.info("start form estimate not redrawn: %s", exc.response.get("error"))


async def form_estimate_text(ctx: AppContext, team_id: str, values: dict[str, object]) -> str:
    """The estimate block for the form's current values (a field's mistake, or the prompt
    to choose a dataset, until there is an estimate)."""
    reference = values.get("dataset")
    if not isinstance(reference, str) or not reference:
        return start_form_live_estimate(None)
    try:
        epochs = OPTION_PARSERS["epochs"](str(values["epochs"])) if values.get("epochs") else None
        validation = (
            OPTION_PARSERS["validation"](str(values["validation"])) if values.get("validation") else None
        )
        chosen = values.get("base_model")
        args = StartArgs(
            dataset=reference,
            display_name=None,
            epoch_count=epochs if isinstance(epochs, int) else None,
            base_model=chosen if isinstance(chosen, str) else None,
            validation=validation if isinstance(validation, ValidationChoice) else None,
        )
        base_model = resolve_base_model(args.base_model, ctx.backend)
    except UsageError as exc:
        return start_form_live_estimate(None, plain_text(str(exc)))
    except UserError as exc:
        return start_form_live_estimate(None, plain_text(error_text(exc)))
    dataset = await ctx.store.run(lookup_dataset, ctx.store, team_id, reference)
    if dataset is None:
        return start_form_live_estimate(None)
    estimate = await start_estimate(
        ctx,
        dataset,
        epochs=start_epochs(ctx.backend, args),
        base_model=base_model,
        validation=args.validation,
    )
    return start_form_live_estimate(estimate)
