"""Modal submissions and button clicks."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.domain.errors import BackendError, UsageError, UserError
from bot.presentation import blocks
from bot.presentation.datasets import start_estimate_text
from bot.presentation.errors import error_text
from bot.presentation.jobs import validation_note
from bot.presentation.models import deleted_text
from bot.presentation.text import ZERO_WIDTH_SPACE
from bot.presentation.text import escape_mrkdwn as esc
from bot.services.datasets import estimate_start
from bot.services.jobs import start_job, validation_set
from bot.services.models import check_try, delete_model
from bot.slack.channels import ensure_member
from bot.slack.commands import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    StartArgs,
    check_display_name,
    parse_int,
    parse_learning_rate,
    parse_validation,
)
from bot.slack.context import AppContext
from bot.slack.conversation import start_try_thread
from bot.slack.handlers.tune_command import channel_refusal, datasets_page, models_page
from bot.slack.jobs import announce_new_job, show_cancelled
from bot.slack.uploads import ingest_slack_file

log = logging.getLogger(__name__)


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """`{block_id: value}` from a submitted view's state (one element per block)."""
    values: dict[str, Any] = {}
    for block_id, elements in (view.get("state", {}).get("values") or {}).items():
        for element in elements.values():
            kind = element.get("type")
            if kind == "file_input":
                values[block_id] = element.get("files") or []
            elif kind == "static_select":
                selected = element.get("selected_option") or {}
                values[block_id] = selected.get("value")
            else:
                values[block_id] = (element.get("value") or "").strip() or None
    return values


def private_metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def plain_text(mrkdwn: str) -> str:
    """A mrkdwn message for a place Slack shows as plain text (a modal field's error):
    no code marks, Slack's three entities shown as the characters they stand for."""
    text = mrkdwn.replace("`", "").replace(ZERO_WIDTH_SPACE, "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def start_args_from_view(values: dict[str, Any]) -> tuple[StartArgs | None, dict[str, str]]:
    """Validated form input, or Slack's per-field errors."""
    errors: dict[str, str] = {}
    parsed: dict[str, Any] = {}
    checks = {
        "epochs": lambda v: parse_int(v or "", "epochs", low=1, high=MAX_EPOCHS),
        "batch_size": lambda v: parse_int(v or "", "batch_size", low=1, high=MAX_BATCH_SIZE),
        "learning_rate": lambda v: parse_learning_rate(v or ""),
        "name": lambda v: check_display_name(v) if v else None,
        "validation": lambda v: parse_validation(v or ""),
    }
    for field, check in checks.items():
        try:
            parsed[field] = check(values.get(field))
        except UsageError as exc:
            errors[field] = plain_text(str(exc))
    if not values.get("dataset"):
        errors["dataset"] = "Choose a dataset."
    if errors:
        return None, errors
    return (
        StartArgs(
            dataset=values["dataset"],
            display_name=parsed["name"],
            epoch_count=parsed["epochs"],
            batch_size=parsed["batch_size"],
            learning_rate=parsed["learning_rate"],
            base_model=values.get("base_model"),
            validation=parsed["validation"],
        ),
        {},
    )


def register(app: AsyncApp, ctx: AppContext) -> None:
    async def tell(channel_id: str, user_id: str, text: str) -> None:
        """An ephemeral note to one user; a DM when the channel will not take it."""
        try:
            await ctx.client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
        except SlackApiError:
            log.warning("could not post an ephemeral message in %s; sending a DM instead", channel_id)
            await ctx.client.chat_postMessage(channel=user_id, text=text)

    @app.view(blocks.UPLOAD_CALLBACK)
    async def upload_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = view_values(view)
        files = values.get("file") or []
        if not files:
            await ack(response_action="errors", errors={"file": "Choose a file to upload."})
            return
        await ack()
        meta = private_metadata(view)
        user_id = body["user"]["id"]
        channel_id = meta.get("channel_id") or user_id
        result = await ingest_slack_file(
            ctx,
            files[0],
            team_id=(body.get("team") or {}).get("id", ""),
            user_id=user_id,
            channel_id=channel_id,
            dataset_name=values.get("name"),
            input_column=values.get("input_column"),
            output_column=values.get("output_column"),
        )
        await tell(channel_id, user_id, result)

    @app.view(blocks.START_CALLBACK)
    async def start_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        args, errors = start_args_from_view(view_values(view))
        wanted = args.validation.dataset if args is not None and args.validation is not None else None
        team_id = (body.get("team") or {}).get("id", "")
        if wanted is not None and ctx.store.datasets.find(team_id, wanted) is None:
            # Checked before the form closes, so a mistyped name is fixed in place.
            errors = {"validation": f"There is no dataset {wanted}. Write a share such as 10%."}
            args = None
        if args is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        meta = private_metadata(view)
        user_id = body["user"]["id"]
        channel_id = meta.get("channel_id") or user_id
        try:
            await ensure_member(ctx, channel_id)
            job = await start_job(
                ctx.store,
                ctx.backend,
                team_id=(body.get("team") or {}).get("id", ""),
                user_id=user_id,
                channel_id=channel_id,
                args=args,
                hold_seconds=ctx.settings.lease_seconds,
            )
        except UserError as exc:
            await tell(channel_id, user_id, error_text(exc))
            return
        problem = await announce_new_job(ctx, job)
        dataset = ctx.store.datasets.find(team_id, str(job.dataset_id))
        estimate = None
        if dataset is not None:
            estimate = "For this start: " + start_estimate_text(
                estimate_start(
                    ctx.store,
                    dataset,
                    epochs=job.epoch_count,
                    base_model=job.base_model,
                    prices=ctx.settings.training_prices,
                    currency=ctx.settings.price_currency,
                    held_out_percent=args.validation.percent if args.validation else None,
                )
            )
        for note in (validation_note(validation_set(ctx.store, job)), estimate, problem):
            if note:
                await tell(channel_id, user_id, note)

    @app.action(re.compile(f"^{blocks.ACTION_LIST_PAGE}_"))
    async def list_page(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            page_number, extra = blocks.parse_page_value(action.get("value") or "")
        except (ValueError, KeyError, TypeError):
            await respond(text="That button is out of date; run `/tune list` again.", replace_original=True)
            return
        team_id = (body.get("team") or {}).get("id", "")
        try:
            text, page = await models_page(
                ctx, team_id, body["user"]["id"], scope=extra.get("s", "all"), page_number=page_number
            )
        except BackendError as exc:
            await respond(text=f":x: Could not list tuned models: {esc(str(exc))}", replace_original=False)
            return
        await respond(text=text, blocks=page, replace_original=True)

    @app.action(re.compile(f"^{blocks.ACTION_DATASETS_PAGE}_"))
    async def datasets_page_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        try:
            page_number, _ = blocks.parse_page_value(action.get("value") or "")
        except (ValueError, KeyError, TypeError):
            page_number = 1
        team_id = (body.get("team") or {}).get("id", "")
        text, page = datasets_page(ctx, team_id, body["user"]["id"], page_number=page_number)
        await respond(text=text, blocks=page, replace_original=True)

    @app.action(blocks.ACTION_DELETE)
    async def delete_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id = body["user"]["id"]
        model_name = action.get("value") or ""
        cancelled = []
        try:
            deleted = await delete_model(
                ctx.store, ctx.backend, user_id=user_id, model_name=model_name, admins=ctx.admins
            )
            text, cancelled = deleted_text(deleted), deleted.cancelled
        except UserError as exc:
            text = error_text(exc)
        log.info("delete of %s requested by %s", model_name, user_id)
        if body.get("response_url"):
            await respond(text=text, replace_original=True)
        else:  # clicked in the Home tab: no message to replace, so the answer comes as a DM
            await ctx.client.chat_postMessage(channel=user_id, text=text)
        for job in cancelled:
            await show_cancelled(ctx, job, user_id)
        ctx.home_changed((body.get("team") or {}).get("id", ""))

    @app.action(blocks.ACTION_TRY)
    async def try_clicked(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        """ "Try it" under a job's notice, or "Try" in the Home tab (the thread opens in the DM)."""
        await ack()
        user_id = body["user"]["id"]
        channel_id = (body.get("channel") or {}).get("id") or user_id

        async def answer(text: str) -> None:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
            else:
                await ctx.client.chat_postMessage(channel=user_id, text=text)

        try:
            model_name = ctx.backend.model_name(action.get("value") or "")
            await check_try(ctx.store, ctx.backend, model_name=model_name)
            await ensure_member(ctx, channel_id)
        except ValueError as exc:  # UserError is not one
            await answer(str(exc))
            return
        except UserError as exc:
            await answer(error_text(exc))
            return
        try:
            await start_try_thread(ctx, channel_id=channel_id, user_id=user_id, model_name=model_name)
        except SlackApiError as exc:
            await answer(channel_refusal(exc, channel_id))
