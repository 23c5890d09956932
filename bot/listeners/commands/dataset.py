"""`/tune dataset delete <name>` (asks to confirm: the buttons are `actions.delete_dataset`)
and `/tune dataset rename <name> <new name>`."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.listeners.requests import CommandRequest
from bot.presentation.commands import DATASET_USAGE, rename_to_what_text, unknown_dataset_action_text
from bot.presentation.datasets import dataset_delete_prompt, dataset_renamed_text
from bot.services.datasets import dataset_for_delete, rename_dataset
from bot.slack.commands import did_you_mean, split_first
from bot.slack.context import AppContext


async def change_dataset(ctx: AppContext, request: CommandRequest) -> None:
    action, _, args = request.rest.strip().partition(" ")
    if action.lower() in DELETE_WORDS:
        await confirm_dataset_delete(ctx, request, args)
        return
    await request.ack(text=await dataset_answer(ctx, request))
    ctx.home_changed(request.team_id)


DELETE_WORDS = ("delete", "remove", "rm")


async def confirm_dataset_delete(ctx: AppContext, request: CommandRequest, args: str) -> None:
    name, _ = split_first(args, "dataset", DATASET_USAGE)
    await request.ack()
    prompt = await ctx.store.run(
        dataset_for_delete,
        ctx.store,
        team_id=request.team_id,
        user_id=request.user_id,
        name=name,
        admins=ctx.admins,
    )
    text, body = dataset_delete_prompt(prompt)
    await request.respond(text=text, blocks=body, response_type="ephemeral")


async def dataset_answer(ctx: AppContext, request: CommandRequest) -> str:
    action, _, args = request.rest.strip().partition(" ")
    action = action.lower()
    team_id, user_id = request.team_id, request.user_id
    if action in ("rename", "mv"):
        name, new_name = split_first(args, "dataset", DATASET_USAGE)
        if not new_name:
            raise UsageError(rename_to_what_text(name))
        quoted, after = split_first(new_name, "name", DATASET_USAGE)
        if not after and new_name[0] in "\"'“”‘’":  # `rename a "Q&A v2"`: the name in the quotes
            new_name = quoted
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
