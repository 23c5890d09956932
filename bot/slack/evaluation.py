"""`/tune eval <model> <dataset>` and `/tune compare <model> <prompt>`: a tuned model against
its base model, in a thread. A `/tune eval` is stored and carried out like a job
(bot/polling/eval_requests.py); `SlackEvalThreads` is its Slack side."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.errors import BackendError
from bot.evaluation.board import EvalBoard, board_model_names, plan_json
from bot.polling.eval_requests import EvalRefused, Outcome
from bot.polling.ports import ReporterError
from bot.presentation.blocks import section, thinking_text
from bot.presentation.evaluation import (
    DATASET_EXAMPLES,
    TRAINED_ON_EXAMPLES,
    TRAINED_ON_NOTE,
    compare_blocks,
    compare_prompt_text,
    dataset_evaluation_file_title,
    dataset_evaluation_title,
    evaluated_text,
    evaluating_text,
    evaluation_blocks,
    evaluation_file_name,
)
from bot.presentation.leaderboard import (
    TRAINED_ON_BOARD_NOTE,
    board_evaluated_text,
    board_evaluating_text,
    board_file_title,
    leaderboard_blocks,
)
from bot.presentation.models import left_out_note
from bot.services.conversation import system_choice
from bot.services.errors import ModelRef
from bot.services.evaluations import base_model_of
from bot.services.models import model_ref, short_id
from bot.slack.calls import SlackCallFailed, call, paged, post_once
from bot.slack.context import AppContext
from bot.slack.conversation import BASE_LANE, TUNED_LANE, thread_conversation
from bot.storage.models import Dataset, EvalRequest
from bot.storage.store import Store

log = logging.getLogger(__name__)

EVAL_THREAD_EVENT_TYPE = "tunebot_eval_request"
EVAL_REPORT_EVENT_TYPE = "tunebot_eval_report"


async def run_eval(
    ctx: AppContext,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    model_name: str,
    dataset: Dataset,
    more_models: Sequence[str] = (),
) -> None:
    """Store the evaluation of a sample of the dataset's examples, then run it: the result and
    its CSV go in a thread (bot/polling/eval_requests.py; a restart carries it on). With
    `more_models`, every model is scored on the same sample and the thread gets one
    leaderboard. Raises `EvalRefused` when Slack refuses the thread."""
    assert dataset.id is not None and ctx.eval_requests is not None
    base_model = await base_model_of(ctx.store, ctx.backend, model_name)
    plan: str | None = None
    if more_models:
        pairs = [(model_name, base_model)]
        for other in more_models:
            pairs.append((other, await base_model_of(ctx.store, ctx.backend, other)))
        plan = plan_json(pairs)
    runner = ctx.eval_requests
    request = await runner.submit(
        EvalRequest(
            team_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            model_name=model_name,
            base_model=base_model,
            dataset_id=dataset.id,
            dataset_name=dataset.display_name,
            example_count=min(ctx.settings.eval_max_examples, dataset.example_count),
            report_json=plan,
        )
    )
    await runner.run(request)


def eval_metadata(request: EvalRequest, event_type: str) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {"request_id": str(request.id)}}


def is_eval_message(message: dict[str, Any], request: EvalRequest, event_type: str) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == event_type and str(payload.get("request_id")) == str(request.id)


def eval_csv_name(request: EvalRequest) -> str:
    """Readable and the same for the request however often it is looked for: its dataset and number."""
    return evaluation_file_name(f"{request.dataset_name}-request-{request.id}")


class SlackEvalThreads:
    """A `/tune eval` thread in Slack (the runner's `EvalThreads`): its first message and the
    report name the request in their metadata, so that after an ambiguous failure or a crash
    they are found rather than posted twice; the CSV is found by its file name."""

    def __init__(self, client: AsyncWebClient, store: Store) -> None:
        self.client = client
        self.store = store

    async def _model(self, request: EvalRequest) -> ModelRef:
        """The model as its thread names it: tunebot's display name and its id."""
        return await self.store.run(model_ref, self.store, request.model_name)

    async def _board_models(self, request: EvalRequest) -> list[ModelRef] | None:
        """The models of a multi-model request, as its thread names them (None: one model)."""
        names = board_model_names(request.report_json)
        if names is None:
            return None
        return [await self.store.run(model_ref, self.store, name) for name in names]

    async def open_thread(self, request: EvalRequest) -> str:
        board = await self._board_models(request)
        if board is not None:
            text = board_evaluating_text(request.user_id, board, request.example_count, request.dataset_name)
        else:
            text = evaluating_text(
                request.user_id,
                await self._model(request),
                request.base_model,
                request.example_count,
                request.dataset_name,
            )
        try:
            return await post_once(
                self.client,
                lambda: self.find_thread(request),
                channel=request.channel_id,
                text=text,
                metadata=eval_metadata(request, EVAL_THREAD_EVENT_TYPE),
            )
        except SlackCallFailed as exc:
            if exc.ambiguous or exc.error == "ratelimited":
                raise
            raise EvalRefused(exc.error) from exc

    async def find_thread(self, request: EvalRequest) -> str | None:
        created = request.created_at.replace(tzinfo=request.created_at.tzinfo or UTC)
        async for message in paged(
            self.client,
            "conversations_history",
            channel=request.channel_id,
            oldest=f"{created.timestamp() - 60:.6f}",
        ):
            if is_eval_message(message, request, EVAL_THREAD_EVENT_TYPE):
                return str(message["ts"])
        return None

    async def post_report(self, request: EvalRequest, report: Outcome, *, trained_on: bool) -> str:
        if isinstance(report, EvalBoard):
            text, blocks = leaderboard_blocks(
                report,
                dataset=request.dataset_name,
                models=[await self.store.run(model_ref, self.store, r.tuned_model) for r in report.reports],
                note=TRAINED_ON_BOARD_NOTE if trained_on else None,
            )
        else:
            text, blocks = evaluation_blocks(
                report,
                title=dataset_evaluation_title(request.dataset_name),
                model=await self._model(request),
                note=TRAINED_ON_NOTE if trained_on else None,
                examples=TRAINED_ON_EXAMPLES if trained_on else DATASET_EXAMPLES,
            )
        return await post_once(
            self.client,
            lambda: self.find_report(request),
            channel=request.channel_id,
            thread_ts=request.thread_ts,
            text=text,
            blocks=blocks,
            metadata=eval_metadata(request, EVAL_REPORT_EVENT_TYPE),
        )

    async def find_report(self, request: EvalRequest) -> str | None:
        async for message in self._thread(request):
            if is_eval_message(message, request, EVAL_REPORT_EVENT_TYPE):
                return str(message["ts"])
        return None

    async def csv_posted(self, request: EvalRequest) -> bool:
        # Also the name the release before this one gave it (dataset and thread ts), so that a
        # request carried across an upgrade does not post its CSV twice.
        names = {eval_csv_name(request), f"tunebot-eval-{request.dataset_name}-{request.thread_ts}.csv"}
        async for message in self._thread(request):
            if any(f.get("name") in names or f.get("title") in names for f in message.get("files") or []):
                return True
        return False

    async def post_csv(self, request: EvalRequest, report: Outcome) -> None:
        title = (
            board_file_title(request.dataset_name)
            if isinstance(report, EvalBoard)
            else dataset_evaluation_file_title(await self._model(request), request.dataset_name)
        )
        try:
            await call(
                self.client,
                "files_upload_v2",
                channel=request.channel_id,
                thread_ts=request.thread_ts,
                content=report.to_csv(),
                filename=eval_csv_name(request),
                title=title,
            )
        except ReporterError as exc:
            if not exc.ambiguous or not await self.csv_posted(request):
                raise
            log.info("eval request %s: the CSV was stored although Slack's answer was lost", request.id)

    async def close_thread(self, request: EvalRequest) -> None:
        board = await self._board_models(request)
        if board is not None:
            text = board_evaluated_text(request.user_id, board, request.example_count, request.dataset_name)
        else:
            text = evaluated_text(
                request.user_id,
                await self._model(request),
                request.base_model,
                request.example_count,
                request.dataset_name,
            )
        await call(self.client, "chat_update", channel=request.channel_id, ts=request.thread_ts, text=text)

    def _thread(self, request: EvalRequest) -> AsyncIterator[dict[str, Any]]:
        return paged(self.client, "conversations_replies", channel=request.channel_id, ts=request.thread_ts)


async def open_compare_thread(
    ctx: AppContext, *, channel_id: str, user_id: str, model_name: str, prompt: str
) -> str:
    """Post the prompt, remember the thread (both models), answer side by side in it."""
    base_model = await base_model_of(ctx.store, ctx.backend, model_name)
    system = await ctx.store.run(system_choice, ctx.store, model_name, None)
    posted = await ctx.client.chat_postMessage(
        channel=channel_id,
        text=compare_prompt_text(
            user_id, await ctx.store.run(model_ref, ctx.store, model_name), base_model, prompt, system
        ),
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
    model = await ctx.store.run(model_ref, ctx.store, model_name)
    placeholder = await ctx.client.chat_postMessage(
        channel=channel_id,
        thread_ts=thread_ts,
        text=thinking_text(model.display_name or short_id(model_name)),
    )
    tuned_talk, base_talk = [
        await thread_conversation(ctx, channel_id, thread_ts, model_name, prompt, lane)
        for lane in (TUNED_LANE, BASE_LANE)
    ]
    (tuned, tuned_error), (base, base_error) = await asyncio.gather(
        _answer(ctx.backend.generate(model_name, prompt, conversation=tuned_talk.conversation)),
        _answer(ctx.backend.generate_base(base_model, prompt, conversation=base_talk.conversation)),
    )
    answered = {
        lane: text
        for lane, text, error in ((TUNED_LANE, tuned, tuned_error), (BASE_LANE, base, base_error))
        if error is None
    }
    if answered:  # a prompt no model answered is not part of the conversation
        await ctx.store.run(ctx.store.threads.add_exchange, channel_id, thread_ts, prompt, answered)
    left_out = max(tuned_talk.left_out, base_talk.left_out)
    text, blocks = compare_blocks(
        tuned_model=model,
        base_model=base_model,
        tuned=tuned,
        base=base,
        tuned_error=tuned_error,
        base_error=base_error,
    )
    if left_out:
        note = left_out_note(left_out).strip()
        text, blocks = f"{text}\n{note}", [*blocks, section(note)]
    try:
        await ctx.client.chat_update(channel=channel_id, ts=placeholder["ts"], text=text, blocks=blocks)
    except SlackApiError:
        log.exception("could not edit the comparison into the thread; posting it instead")
        await ctx.client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text, blocks=blocks)
