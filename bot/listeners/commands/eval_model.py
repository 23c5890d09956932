"""`/tune eval <model>[,<model>,…] <dataset>`: the model against its base model on a dataset, in
a thread; several models (at most `MAX_MODELS`) on the same examples, one leaderboard."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.evaluation.board import MAX_MODELS
from bot.listeners.requests import CommandRequest
from bot.polling.eval_requests import EvalRefused
from bot.presentation.aliases import alias_meant_text
from bot.presentation.channels import refusal_for
from bot.presentation.commands import (
    EVAL_USAGE,
    empty_model_list_text,
    too_many_models_text,
    which_dataset_text,
)
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
    texts = [part.strip() for part in model_text.split(",")] if "," in model_text else [model_text]
    if any(not text for text in texts):
        raise UsageError(empty_model_list_text())
    if len(texts) > MAX_MODELS:
        raise UsageError(too_many_models_text(len(texts), MAX_MODELS))
    team_id, channel_id = request.team_id, request.channel_id
    dataset = await ctx.store.run(find_dataset, ctx.store, team_id, dataset_text)
    if dataset.source_uri:  # read in place from Cloud Storage: no stored examples
        raise CloudDatasetNotEvaluated(dataset.display_name)
    names: list[str] = []
    said: list[str] = []
    for text in texts:
        name = await ctx.store.run(resolve_model, ctx.store, ctx.backend, team_id=team_id, text=text)
        meant = await ctx.store.run(alias_used, ctx.store, team_id, text, name)
        if meant is not None:
            said.append(alias_meant_text(text, meant))
        names.append(name)
    names = list(dict.fromkeys(names))  # a model listed twice is scored once
    model_name, more_models = names[0], names[1:]
    # The channel's "is evaluating…" is the answer; privately, at most which model each alias meant.
    if said:
        await request.ack(text="\n".join(said))
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
            more_models=more_models,
        )
    except EvalRefused as refused:
        await request.respond(text=refusal_for(channel_id, refused.error), response_type="ephemeral")
