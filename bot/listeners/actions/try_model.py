"""The "Try it" button under a job's notice, or "Try" in the Home tab (the thread opens in the DM)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.domain.errors import UserError
from bot.listeners.replies import channel_refusal
from bot.listeners.requests import ActionRequest
from bot.presentation.errors import error_text
from bot.services.models import check_try
from bot.slack.channels import ensure_member
from bot.slack.context import AppContext
from bot.slack.conversation import start_try_thread


async def try_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    user_id = request.user_id
    channel_id = (request.body.get("channel") or {}).get("id") or user_id

    async def answer(text: str) -> None:
        if request.body.get("response_url"):
            await request.respond(text=text, response_type="ephemeral", replace_original=False)
        else:
            await ctx.client.chat_postMessage(channel=user_id, text=text)

    try:
        model_name = ctx.backend.model_name(request.value)
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
