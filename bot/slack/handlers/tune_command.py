"""The `/tune` slash command and its subcommands.

Every branch acknowledges first (Slack allows 3 seconds); modals are opened right
after the ack because a `trigger_id` lives only 3 seconds; slow work (API calls,
database reads of examples) happens after the ack, in Bolt's listener task.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.datasets.insight import DatasetInsight
from bot.render.text import escape_mrkdwn as esc
from bot.service import (
    UserError,
    check_start,
    dataset_detail_text,
    dataset_insight,
    describe_model_for_delete,
    resolve_base_model,
    start_estimate_text,
    start_job,
    unknown_dataset_message,
    validation_note,
)
from bot.slack import blocks
from bot.slack.commands import UsageError, parse_start, split_command, split_first
from bot.slack.context import AppContext
from bot.slack.conversation import open_try_thread
from bot.slack.evaluation import COMPARE_USAGE, EVAL_USAGE, open_compare_thread, run_eval
from bot.slack.jobs import announce_new_job
from bot.slack.uploads import share_lengths_chart
from bot.tuning.types import BackendError, ModelPage

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 10
TRY_USAGE = "`/tune try <model> <prompt>`"
DELETE_USAGE = "`/tune delete <model>`"


# `/tune try` and `/tune compare`: a prompt that opens a thread.
THREAD_COMMANDS = {"try": (TRY_USAGE, open_try_thread), "compare": (COMPARE_USAGE, open_compare_thread)}


def register(app: AsyncApp, ctx: AppContext) -> None:
    @app.command("/tune")
    async def tune(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        ack = OnceAck(ack)
        parsed = split_command(command.get("text", ""))
        team_id = command.get("team_id", "")
        user_id = command["user_id"]
        channel_id = command["channel_id"]
        try:
            if parsed.name in ("help", "?"):
                text, help_ = blocks.help_blocks()
                await ack(text=text, blocks=help_)
            elif parsed.name == "upload":
                await ack()
                await ctx.client.views_open(
                    trigger_id=command["trigger_id"], view=blocks.upload_modal(channel_id, user_id)
                )
            elif parsed.name == "start" and not parsed.rest:
                await open_start_modal(ack, command)
            elif parsed.name == "start":
                args = parse_start(parsed.rest)
                dataset = check_start(ctx.store, ctx.backend, team_id=team_id, args=args)
                estimate = start_estimate_text(
                    ctx.store,
                    dataset,
                    epochs=args.epoch_count,
                    base_model=resolve_base_model(args.base_model, ctx.backend),
                    prices=ctx.settings.training_prices,
                    currency=ctx.settings.price_currency,
                    held_out_percent=args.validation.percent if args.validation else None,
                )
                await ack(text=f":hourglass: Starting tuning on dataset `{esc(args.dataset)}`… {estimate}")
                job = await start_job(
                    ctx.store, ctx.backend, team_id=team_id, user_id=user_id, channel_id=channel_id, args=args
                )
                problem = await announce_new_job(ctx, job)
                for note in (validation_note(ctx.store, job), problem):
                    if note:
                        await respond(text=note, response_type="ephemeral")
            elif parsed.name == "datasets" and parsed.rest:
                await show_dataset(ack, respond, team_id=team_id, user_id=user_id, wanted=parsed.rest)
            elif parsed.name == "datasets":
                # A quick database read: answered in the ack itself, one round trip.
                text, body = blocks.datasets_blocks(ctx.store.list_datasets(team_id, user_id))
                await ack(text=text, blocks=body)
            elif parsed.name == "status":
                jobs = ctx.store.jobs_for_owner(team_id, user_id)
                if parsed.rest:
                    wanted = parsed.rest.strip().lstrip("#").lower()
                    jobs = [
                        j
                        for j in jobs
                        if str(j.id) == wanted
                        or j.display_name.lower() == wanted
                        or (j.model_name or "").lower().endswith(wanted)
                    ]
                    if not jobs:
                        raise UserError(f"You have no job `{esc(parsed.rest)}`. `/tune status` lists yours.")
                text, body = blocks.status_blocks(jobs)
                await ack(text=text, blocks=body)
            elif parsed.name == "list":
                await ack()
                text, body = await models_page(ctx, page_number=1, token=None, history=[])
                await respond(text=text, blocks=body, response_type="ephemeral")
            elif parsed.name in ("try", "compare"):
                usage, opener = THREAD_COMMANDS[parsed.name]
                model_text, prompt = split_first(parsed.rest, "model", usage)
                if not prompt:
                    raise UsageError(f"What should I ask `{esc(model_text)}`? Usage: {usage}")
                model_name = to_model_name(ctx, model_text)
                await ack()
                try:
                    await opener(
                        ctx, channel_id=channel_id, user_id=user_id, model_name=model_name, prompt=prompt
                    )
                except SlackApiError as exc:
                    await respond(text=channel_refusal(exc), response_type="ephemeral")
            elif parsed.name == "eval":
                model_text, dataset_text = split_first(parsed.rest, "model", EVAL_USAGE)
                if not dataset_text:
                    raise UsageError(f"On which dataset? Usage: {EVAL_USAGE}")
                model_name = to_model_name(ctx, model_text)
                dataset = ctx.store.find_dataset(team_id, dataset_text.strip().strip("`"))
                if dataset is None:
                    raise UserError(unknown_dataset_message(dataset_text, ctx.store.dataset_names(team_id)))
                await ack(text=f":hourglass: Evaluating `{esc(model_name)}` on *{esc(dataset.name)}*…")
                try:
                    await run_eval(
                        ctx, channel_id=channel_id, user_id=user_id, model_name=model_name, dataset=dataset
                    )
                except SlackApiError as exc:
                    await respond(text=channel_refusal(exc), response_type="ephemeral")
            elif parsed.name == "delete":
                model_text, _ = split_first(parsed.rest, "model", DELETE_USAGE)
                await ack()
                model = await describe_model_for_delete(
                    ctx.store, ctx.backend, user_id=user_id, model_text=model_text, admins=ctx.admins
                )
                text, body = blocks.delete_prompt_blocks(model.name, model.display_name)
                await respond(text=text, blocks=body, response_type="ephemeral")
            else:
                text, help_ = blocks.help_blocks(f"I don't know `/tune {esc(parsed.name)}`.")
                await ack(text=text, blocks=help_)
        except (UsageError, UserError, BackendError) as exc:
            message = f":x: {esc(str(exc))}" if isinstance(exc, BackendError) else str(exc)
            if ack.done:
                await respond(text=message, response_type="ephemeral")
            else:
                await ack(text=message)

    async def show_dataset(
        ack: OnceAck, respond: AsyncRespond, *, team_id: str, user_id: str, wanted: str
    ) -> None:
        dataset = ctx.store.find_dataset(team_id, wanted.strip().strip("`"))
        if dataset is None:
            raise UserError(unknown_dataset_message(wanted.strip(), ctx.store.dataset_names(team_id)))
        assert dataset.id is not None
        note = "\n_The length chart follows in a DM._"
        insight = DatasetInsight.from_json(ctx.store.dataset_insight(dataset.id))
        if insight is not None:  # stored at upload: answered in the ack itself
            await ack(text=dataset_detail_text(dataset, insight) + note)
        else:  # uploaded before tunebot kept it: gathered once from the stored examples
            await ack(text=f":mag: Looking at *{esc(dataset.name)}*…")
            insight = await asyncio.to_thread(dataset_insight, ctx.store, dataset)
            await respond(text=dataset_detail_text(dataset, insight) + note, response_type="ephemeral")
        await share_lengths_chart(ctx, user_id=user_id, dataset=dataset, insight=insight)

    async def open_start_modal(ack: OnceAck, command: dict[str, Any]) -> None:
        names = ctx.store.dataset_names(command.get("team_id", ""))
        if not names:
            await ack(text=blocks.no_datasets_text())
            return
        await ack()
        view = blocks.start_modal(command["channel_id"], command["user_id"], names, ctx.backend.base_models)
        await ctx.client.views_open(trigger_id=command["trigger_id"], view=view)


class OnceAck:
    """Bolt's ack, remembering whether it was already called (the answer to Slack is sent then)."""

    def __init__(self, ack: AsyncAck) -> None:
        self._ack = ack
        self.done = False

    async def __call__(self, **kwargs: Any) -> None:
        if not self.done:
            self.done = True
            await self._ack(**kwargs)


def to_model_name(ctx: AppContext, text: str) -> str:
    try:
        return ctx.backend.model_name(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


def channel_refusal(exc: SlackApiError) -> str:
    error = exc.response.get("error") if exc.response is not None else "unknown"
    if error in ("not_in_channel", "channel_not_found"):
        return ":x: I can't post in this channel. Invite me with `/invite @tunebot` and try again."
    return f":x: Slack refused the message ({esc(str(error))})."


async def models_page(
    ctx: AppContext, *, page_number: int, token: str | None, history: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    page = await ctx.backend.list_models(page_size=LIST_PAGE_SIZE, page_token=token)
    # Vertex AI keeps listing the tuning job of a deleted model; tunebot knows better.
    gone = ctx.store.deleted_models(m.name for m in page.models)
    if gone:
        page = ModelPage([m for m in page.models if m.name not in gone], page.next_page_token)
    owners = ctx.store.model_owners(m.name for m in page.models)
    return blocks.models_page_blocks(
        page, owners, page_number=page_number, previous_tokens=history, current_token=token
    )
