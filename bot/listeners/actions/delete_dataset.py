"""The Delete and Cancel buttons of `/tune dataset delete`: delete the dataset, or keep it."""

from __future__ import annotations

import logging

from bot.domain.errors import UserError
from bot.listeners.requests import ActionRequest
from bot.presentation.datasets import dataset_deleted_text, dataset_kept_text
from bot.presentation.errors import error_text
from bot.services.datasets import dataset_display_name, delete_dataset
from bot.slack.context import AppContext

log = logging.getLogger(__name__)


def _dataset_id(request: ActionRequest) -> int | None:
    value = request.value
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


async def delete_dataset_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    dataset_id = _dataset_id(request)
    if dataset_id is None:  # not a value tunebot sets: nothing is deleted
        text = dataset_kept_text(None)
    else:
        try:
            deleted = await ctx.store.run(
                delete_dataset,
                ctx.store,
                team_id=request.team_id,
                user_id=request.user_id,
                dataset_id=dataset_id,
                admins=ctx.admins,
            )
            text = dataset_deleted_text(deleted)
        except UserError as exc:
            text = error_text(exc)
        log.info("delete of dataset %s requested by %s", dataset_id, request.user_id)
    await request.respond(text=text, replace_original=True)
    ctx.home_changed(request.team_id)


async def keep_dataset_clicked(ctx: AppContext, request: ActionRequest) -> None:
    await request.ack()
    dataset_id = _dataset_id(request)
    name = None
    if dataset_id is not None:
        name = await ctx.store.run(dataset_display_name, ctx.store, request.team_id, dataset_id)
    await request.respond(text=dataset_kept_text(name), replace_original=True)
