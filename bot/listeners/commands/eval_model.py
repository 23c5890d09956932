"""`/tune eval <model> <dataset>`: the model against its base model on a dataset, in a thread."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.listeners.requests import CommandRequest
from bot.polling.eval_requests import EvalRefused
from bot.presentation.aliases import alias_meant_text
from bot.presentation.channels import refusal_for
from bot.presentation.commands import EVAL_USAGE, which_dataset_text
from bot.services.aliases import alias_used
from bot.services.datasets import find_dataset
from bot.services.errors import CloudDatasetNotEvaluated
from bot.services.models import resolve_model
from bot.slack.channels import ensure_member
from bot.slack.commands import split_first
from bot.slack.context import AppContext
from bot.slack.evaluation import run_eval


async def evaluate_model(ctx: AppContext, request: CommandRequest) -> None:
    model_text, dataset_text = split_first(request.rest, "model", EVAL_USAGE)
    if not dataset_text:
        raise UsageError(which_dataset_text())
    team_id, channel_id = request.team_id, request.channel_id
    dataset = await ctx.store.run(find_dataset, ctx.store, team_id, dataset_text)
    if dataset.source_uri:  # read in place from Cloud Storage: no stored examples
        raise CloudDatasetNotEvaluated(dataset.display_name)
    model_name = await ctx.store.run(resolve_model, ctx.store, ctx.backend, team_id=team_id, text=model_text)
    meant = await ctx.store.run(alias_used, ctx.store, team_id, model_text, model_name)
    # The channel's "is evaluating…" is the answer; privately, at most which model an alias meant.
    if meant is not None:
        await request.ack(text=alias_meant_text(model_text, meant))
    else:
        await request.ack()
    await ensure_member(ctx, channel_id)
    try:
        await run_eval(
            ctx,
            team_id=team_id,
            channel_id=channel_id,
            user_id=request.user_id,
            model_name=model_name,
            dataset=dataset,
        )
    except EvalRefused as refused:
        await request.respond(text=refusal_for(channel_id, refused.error), response_type="ephemeral")
