"""The Delete button (after `/tune delete`, or in the Home tab): deletes the model."""

from __future__ import annotations

import logging

from bot.domain.errors import UserError
from bot.listeners.requests import ActionRequest
from bot.presentation.aliases import deleted_aliases_note
from bot.presentation.errors import error_text
from bot.presentation.models import deleted_text
from bot.services.models import delete_model
from bot.slack.context import AppContext
from bot.slack.jobs import show_cancelled
from bot.storage.models import TuningJob

log = logging.getLogger(__name__)


async def delete_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    user_id = request.user_id
    model_name = request.value
    cancelled: list[TuningJob] = []
    try:
        deleted = await delete_model(
            ctx.store,
            ctx.backend,
            user_id=user_id,
            model_name=model_name,
            admins=ctx.admins,
            team_id=request.team_id,
            currency=ctx.settings.price_currency,
        )
        text, cancelled = deleted_text(deleted), deleted.cancelled
        note = deleted_aliases_note(deleted.aliases)
        if note:
            text += f"\n{note}"
    except UserError as exc:
        text = error_text(exc)
    log.info("delete of %s requested by %s", model_name, user_id)
    if request.body.get("response_url"):
        await request.respond(text=text, replace_original=True)
    else:  # clicked in the Home tab: no message to replace, so the answer comes as a DM
        await ctx.client.chat_postMessage(channel=user_id, text=text)
    for job in cancelled:
        await show_cancelled(ctx, job, user_id)
    ctx.home_changed(request.team_id)
