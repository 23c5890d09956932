"""`/tune eval <model> <dataset>` and `/tune compare <model> <prompt>`: a tuned model against
its base model, in a thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from slack_sdk.errors import SlackApiError

from bot.domain.errors import BackendError
from bot.evaluation import EvalRetry, evaluate
from bot.presentation.blocks import thinking_text
from bot.presentation.evaluation import (
    TRAINED_ON_NOTE,
    compare_blocks,
    compare_prompt_text,
    dataset_evaluation_file_title,
    dataset_evaluation_title,
    evaluating_text,
    evaluation_blocks,
    evaluation_file_name,
)
from bot.services.evaluations import base_model_of
from bot.slack.context import AppContext
from bot.storage.models import Dataset

log = logging.getLogger(__name__)


async def run_eval(
    ctx: AppContext, *, channel_id: str, user_id: str, model_name: str, dataset: Dataset
) -> str:
    """Evaluate on the dataset's first N examples; the result and its CSV go in a thread.
    Returns the thread ts."""
    assert dataset.id is not None
    base_model = await base_model_of(ctx.store, ctx.backend, model_name)
    examples = await ctx.store.run(ctx.store.datasets.examples, dataset.id)
    limit = ctx.settings.eval_max_examples
    shown = min(limit, len(examples))
    posted = await ctx.client.chat_postMessage(
        channel=channel_id,
        text=evaluating_text(user_id, model_name, base_model, shown, dataset.name),
    )
    thread_ts = str(posted["ts"])
    report = await evaluate(
        ctx.backend,
        tuned_model=model_name,
        base_model=base_model,
        examples=examples,
        limit=limit,
        concurrency=ctx.settings.eval_concurrency,
        retry=EvalRetry(),
    )
    job = await ctx.store.run(ctx.store.jobs.for_model, model_name)
    note = None
    if job is not None and job.dataset_id == dataset.id:
        note = TRAINED_ON_NOTE
    text, blocks = evaluation_blocks(report, title=dataset_evaluation_title(dataset.name), note=note)
    await ctx.client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text, blocks=blocks)
    await ctx.client.files_upload_v2(
        channel=channel_id,
        thread_ts=thread_ts,
        content=report.to_csv(),
        filename=evaluation_file_name(f"{dataset.name}-{thread_ts}"),
        title=dataset_evaluation_file_title(model_name, dataset.name),
    )
    return thread_ts


async def open_compare_thread(
    ctx: AppContext, *, channel_id: str, user_id: str, model_name: str, prompt: str
) -> str:
    """Post the prompt, remember the thread (both models), answer side by side in it."""
    base_model = await base_model_of(ctx.store, ctx.backend, model_name)
    posted = await ctx.client.chat_postMessage(
        channel=channel_id, text=compare_prompt_text(user_id, model_name, base_model, prompt)
    )
    thread_ts = str(posted["ts"])
    await ctx.store.run(
        ctx.store.threads.add,
        channel_id=channel_id,
        thread_ts=thread_ts,
        model_name=model_name,
        user_id=user_id,
        base_model=base_model,
    )
    await answer_compare_in_thread(
        ctx,
        channel_id=channel_id,
        thread_ts=thread_ts,
        model_name=model_name,
        base_model=base_model,
        prompt=prompt,
    )
    return thread_ts


async def _answer(call: Awaitable[str]) -> tuple[str, str | None]:
    try:
        return await call, None
    except BackendError as exc:
        return "", str(exc)


async def answer_compare_in_thread(
    ctx: AppContext, *, channel_id: str, thread_ts: str, model_name: str, base_model: str, prompt: str
) -> None:
    """Both models answer (at once); a placeholder is edited into the side-by-side answer."""
    placeholder = await ctx.client.chat_postMessage(
        channel=channel_id, thread_ts=thread_ts, text=thinking_text(model_name)
    )
    (tuned, tuned_error), (base, base_error) = await asyncio.gather(
        _answer(ctx.backend.generate(model_name, prompt)),
        _answer(ctx.backend.generate_base(base_model, prompt)),
    )
    text, blocks = compare_blocks(
        tuned_model=model_name,
        base_model=base_model,
        tuned=tuned,
        base=base,
        tuned_error=tuned_error,
        base_error=base_error,
    )
    try:
        await ctx.client.chat_update(channel=channel_id, ts=placeholder["ts"], text=text, blocks=blocks)
    except SlackApiError:
        log.exception("could not edit the comparison into the thread; posting it instead")
        await ctx.client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text, blocks=blocks)
