"""`/tune dataset delete <name>` and `/tune dataset rename <name> <new name>`."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.listeners.requests import CommandRequest
from bot.presentation.commands import DATASET_USAGE, rename_to_what_text, unknown_dataset_action_text
from bot.presentation.datasets import dataset_deleted_text, dataset_renamed_text
from bot.services.datasets import delete_dataset, rename_dataset
from bot.slack.commands import did_you_mean, split_first
from bot.slack.context import AppContext


async def change_dataset(ctx: AppContext, request: CommandRequest) -> None:
    await request.ack(text=await dataset_answer(ctx, request))
    ctx.home_changed(request.team_id)


async def dataset_answer(ctx: AppContext, request: CommandRequest) -> str:
    action, _, args = request.rest.strip().partition(" ")
    action = action.lower()
    team_id, user_id = request.team_id, request.user_id
    if action in ("delete", "remove", "rm"):
        name, _ = split_first(args, "dataset", DATASET_USAGE)
        deleted = await ctx.store.run(
            delete_dataset, ctx.store, team_id=team_id, user_id=user_id, name=name, admins=ctx.admins
        )
        return dataset_deleted_text(deleted)
    if action in ("rename", "mv"):
        name, new_name = split_first(args, "dataset", DATASET_USAGE)
        if not new_name:
            raise UsageError(rename_to_what_text(name))
        renamed = await ctx.store.run(
            rename_dataset,
            ctx.store,
            team_id=team_id,
            user_id=user_id,
            name=name,
            new_name=new_name,
            admins=ctx.admins,
        )
        return dataset_renamed_text(renamed)
    guess = did_you_mean(action, ("delete", "rename")) if action else None
    return unknown_dataset_action_text(action, guess)
