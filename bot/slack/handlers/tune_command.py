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
from bot.domain.errors import BackendError, UsageError, UserError
from bot.domain.types import ModelSummary
from bot.presentation import blocks
from bot.presentation.channels import refusal_for
from bot.presentation.datasets import (
    dataset_deleted_text,
    dataset_detail_text,
    dataset_renamed_text,
    start_estimate_text,
    unknown_dataset_message,
)
from bot.presentation.errors import error_text
from bot.presentation.jobs import validation_note
from bot.presentation.text import escape_mrkdwn as esc
from bot.services.datasets import dataset_insight, delete_dataset, estimate_start, rename_dataset
from bot.services.jobs import check_start, resolve_base_model, start_job, validation_set
from bot.services.models import check_try, describe_model_for_delete, resolve_model
from bot.slack.channels import ensure_member
from bot.slack.commands import SUBCOMMANDS, did_you_mean, parse_start, split_command, split_first
from bot.slack.context import AppContext
from bot.slack.conversation import open_try_thread, split_checkpoint, with_checkpoint
from bot.slack.evaluation import COMPARE_USAGE, EVAL_USAGE, open_compare_thread, run_eval
from bot.slack.jobs import announce_new_job
from bot.slack.uploads import share_lengths_chart

log = logging.getLogger(__name__)

LIST_PAGE_SIZE = 10
LIST_FETCH_SIZE = 100
LIST_MAX_FETCHES = 20  # at most 2,000 models are counted and paged
TRY_USAGE = (
    '`/tune try <model> [checkpoint=N] <prompt>` (a model name with spaces goes in quotes: `"my model"`)'
)
DELETE_USAGE = "`/tune delete <model>`"
DATASET_USAGE = "`/tune dataset delete <name>` or `/tune dataset rename <name> <new name>`"
LIST_SCOPES = ("all", "mine")


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
                    estimate_start(
                        ctx.store,
                        dataset,
                        epochs=args.epoch_count,
                        base_model=resolve_base_model(args.base_model, ctx.backend),
                        prices=ctx.settings.training_prices,
                        currency=ctx.settings.price_currency,
                        held_out_percent=args.validation.percent if args.validation else None,
                    )
                )
                await ack(text=f":hourglass: Starting tuning on dataset `{esc(args.dataset)}`… {estimate}")
                await ensure_member(ctx, channel_id)
                job = await start_job(
                    ctx.store,
                    ctx.backend,
                    team_id=team_id,
                    user_id=user_id,
                    channel_id=channel_id,
                    args=args,
                    hold_seconds=ctx.settings.lease_seconds,
                )
                problem = await announce_new_job(ctx, job)
                for note in (validation_note(validation_set(ctx.store, job)), problem):
                    if note:
                        await respond(text=note, response_type="ephemeral")
            elif parsed.name == "datasets" and parsed.rest:
                await show_dataset(ack, respond, team_id=team_id, user_id=user_id, wanted=parsed.rest)
            elif parsed.name == "datasets":
                # A quick database read: answered in the ack itself, one round trip.
                text, body = datasets_page(ctx, team_id, user_id, page_number=1)
                await ack(text=text, blocks=body)
            elif parsed.name == "dataset":
                await ack(text=dataset_command(ctx, team_id, user_id, parsed.rest))
                ctx.home_changed(team_id)
            elif parsed.name == "status":
                jobs = ctx.store.jobs.for_owner(team_id, user_id)
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
                scope = parsed.rest.strip().lower() or "all"
                if scope not in LIST_SCOPES:
                    raise UsageError(f"`/tune list` takes `mine` or `all`, not `{esc(parsed.rest)}`.")
                await ack()
                text, body = await models_page(ctx, team_id, user_id, scope=scope, page_number=1)
                await respond(text=text, blocks=body, response_type="ephemeral")
            elif parsed.name in ("try", "compare"):
                usage, opener = THREAD_COMMANDS[parsed.name]
                model_text, prompt = split_first(parsed.rest, "model", usage)
                checkpoint, prompt = parse_checkpoint(prompt) if parsed.name == "try" else (None, prompt)
                if not prompt:
                    raise UsageError(f"What should I ask *{esc(model_text)}*? Usage: {usage}")
                model_name = with_checkpoint(
                    resolve_model(ctx.store, ctx.backend, team_id=team_id, text=model_text), checkpoint
                )
                await ack()
                await check_try(ctx.store, ctx.backend, model_name=split_checkpoint(model_name)[0])
                await ensure_member(ctx, channel_id)
                try:
                    await opener(
                        ctx, channel_id=channel_id, user_id=user_id, model_name=model_name, prompt=prompt
                    )
                except SlackApiError as exc:
                    await respond(text=channel_refusal(exc, channel_id), response_type="ephemeral")
            elif parsed.name == "eval":
                model_text, dataset_text = split_first(parsed.rest, "model", EVAL_USAGE)
                if not dataset_text:
                    raise UsageError(f"On which dataset? Usage: {EVAL_USAGE}")
                model_name = resolve_model(ctx.store, ctx.backend, team_id=team_id, text=model_text)
                dataset = ctx.store.datasets.find(team_id, dataset_text.strip().strip("`"))
                if dataset is None:
                    raise UserError(unknown_dataset_message(dataset_text, ctx.store.datasets.names(team_id)))
                await ack(text=f":hourglass: Evaluating `{esc(model_name)}` on *{esc(dataset.name)}*…")
                await ensure_member(ctx, channel_id)
                try:
                    await run_eval(
                        ctx, channel_id=channel_id, user_id=user_id, model_name=model_name, dataset=dataset
                    )
                except SlackApiError as exc:
                    await respond(text=channel_refusal(exc, channel_id), response_type="ephemeral")
            elif parsed.name == "delete":
                model_text, _ = split_first(parsed.rest, "model", DELETE_USAGE)
                await ack()
                found = await describe_model_for_delete(
                    ctx.store,
                    ctx.backend,
                    team_id=team_id,
                    user_id=user_id,
                    model_text=model_text,
                    admins=ctx.admins,
                )
                text, body = blocks.delete_prompt_blocks(
                    found.model.name, found.model.display_name, found.tuning_percent
                )
                await respond(text=text, blocks=body, response_type="ephemeral")
            else:
                guess = did_you_mean(parsed.name, SUBCOMMANDS)
                hint = f" Did you mean `/tune {guess}`?" if guess else ""
                text, help_ = blocks.help_blocks(f"I don't know `/tune {esc(parsed.name)}`.{hint}")
                await ack(text=text, blocks=help_)
        except (UsageError, UserError, BackendError) as exc:
            message = error_text(exc)
            if ack.done:
                await respond(text=message, response_type="ephemeral")
            else:
                await ack(text=message)

    async def show_dataset(
        ack: OnceAck, respond: AsyncRespond, *, team_id: str, user_id: str, wanted: str
    ) -> None:
        dataset = ctx.store.datasets.find(team_id, wanted.strip().strip("`"))
        if dataset is None:
            raise UserError(unknown_dataset_message(wanted.strip(), ctx.store.datasets.names(team_id)))
        assert dataset.id is not None
        note = "\n_The length chart follows in a DM._"
        insight = DatasetInsight.from_json(ctx.store.datasets.insight(dataset.id))
        if insight is not None:  # stored at upload: answered in the ack itself
            await ack(text=dataset_detail_text(dataset, insight) + note)
        else:  # uploaded before tunebot kept it: gathered once from the stored examples
            await ack(text=f":mag: Looking at *{esc(dataset.name)}*…")
            insight = await asyncio.to_thread(dataset_insight, ctx.store, dataset)
            await respond(text=dataset_detail_text(dataset, insight) + note, response_type="ephemeral")
        await share_lengths_chart(ctx, user_id=user_id, dataset=dataset, insight=insight)

    async def open_start_modal(ack: OnceAck, command: dict[str, Any]) -> None:
        names = ctx.store.datasets.names(command.get("team_id", ""))
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


def parse_checkpoint(prompt: str) -> tuple[str | None, str]:
    """`checkpoint=2 what is 5` -> ("2", "what is 5"); no `checkpoint=` -> (None, prompt)."""
    head, _, rest = prompt.partition(" ")
    key, sep, value = head.partition("=")
    if not sep or key.lower() not in ("checkpoint", "ckpt"):
        return None, prompt
    if not value.isdigit():
        raise UsageError(f"`checkpoint` is a checkpoint number such as `checkpoint=2`, not `{esc(value)}`.")
    return value, rest.strip()


def channel_refusal(exc: SlackApiError, channel_id: str) -> str:
    error = exc.response.get("error") if exc.response is not None else "unknown"
    return refusal_for(channel_id, esc(str(error)))


def dataset_command(ctx: AppContext, team_id: str, user_id: str, rest: str) -> str:
    """`/tune dataset delete <name>` and `/tune dataset rename <name> <new name>`."""
    action, _, args = rest.strip().partition(" ")
    action = action.lower()
    if action in ("delete", "remove", "rm"):
        name, _ = split_first(args, "dataset", DATASET_USAGE)
        return dataset_deleted_text(
            delete_dataset(ctx.store, team_id=team_id, user_id=user_id, name=name, admins=ctx.admins)
        )
    if action in ("rename", "mv"):
        name, new_name = split_first(args, "dataset", DATASET_USAGE)
        if not new_name:
            raise UsageError(f"Rename `{esc(name)}` to what? Usage: {DATASET_USAGE}")
        return dataset_renamed_text(
            rename_dataset(
                ctx.store, team_id=team_id, user_id=user_id, name=name, new_name=new_name, admins=ctx.admins
            )
        )
    guess = did_you_mean(action, ("delete", "rename")) if action else None
    hint = f" Did you mean `{guess}`?" if guess else ""
    return f"I don't know `/tune dataset {esc(action)}`.{hint} Usage: {DATASET_USAGE}"


def datasets_page(ctx: AppContext, team_id: str, user_id: str, *, page_number: int) -> tuple[str, list[Any]]:
    return blocks.datasets_blocks(
        ctx.store.datasets.list_for_owner(team_id, user_id), page_number=page_number
    )


async def all_models(ctx: AppContext) -> list[ModelSummary]:
    """Every model the service lists (up to LIST_MAX_FETCHES pages), less those deleted
    through tunebot (Vertex AI keeps listing the tuning job of a deleted model)."""
    models: list[ModelSummary] = []
    token: str | None = None
    for _ in range(LIST_MAX_FETCHES):
        page = await ctx.backend.list_models(page_size=LIST_FETCH_SIZE, page_token=token)
        models.extend(page.models)
        token = page.next_page_token
        if not token:
            break
    gone = ctx.store.ownership.deleted(m.name for m in models)
    return [m for m in models if m.name not in gone]


async def models_page(
    ctx: AppContext, team_id: str, user_id: str, *, scope: str, page_number: int
) -> tuple[str, list[dict[str, Any]]]:
    models = await all_models(ctx)
    owners = ctx.store.ownership.owners_of(m.name for m in models)
    mine = [m for m in models if owners.get(m.name) == user_id]
    shown = mine if scope == "mine" else models
    return blocks.models_page_blocks(
        shown,
        owners,
        scope=scope,
        page_number=page_number,
        page_size=LIST_PAGE_SIZE,
        total=len(models),
        yours=len(mine),
    )
