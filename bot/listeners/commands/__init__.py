"""`/tune`: one Bolt command listener, dispatching on the subcommand through `SUBCOMMANDS`.

Every subcommand acknowledges first (Slack allows 3 seconds); modals are opened right
after the ack because a `trigger_id` lives only 3 seconds; slow work (API calls,
database reads of examples) happens after the ack, in Bolt's listener task. A mistake
(UsageError, UserError, BackendError) is answered in the ack, or with `respond` once the
ack was sent. A new subcommand is one module here and one line in `SUBCOMMANDS`.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.domain.errors import BackendError, UsageError, UserError
from bot.listeners.commands.audit import show_audit
from bot.listeners.commands.cancel import confirm_cancel
from bot.listeners.commands.compare import compare_models
from bot.listeners.commands.dataset import change_dataset
from bot.listeners.commands.datasets import show_datasets
from bot.listeners.commands.delete import confirm_delete
from bot.listeners.commands.eval_model import evaluate_model
from bot.listeners.commands.help import show_help
from bot.listeners.commands.list_models import list_models
from bot.listeners.commands.policy import show_policy
from bot.listeners.commands.promote import promote_model, show_aliases
from bot.listeners.commands.spend import show_spend
from bot.listeners.commands.start import start_tuning
from bot.listeners.commands.status import show_status
from bot.listeners.commands.sweep import run_sweep
from bot.listeners.commands.try_model import try_model
from bot.listeners.commands.upload import open_upload_modal
from bot.listeners.requests import CommandHandler, CommandRequest
from bot.presentation import blocks
from bot.presentation.commands import unknown_subcommand_text
from bot.presentation.errors import error_text
from bot.slack.acks import answer_at_ack
from bot.slack.commands import did_you_mean
from bot.slack.context import AppContext

# In this order "did you mean" breaks ties.
SUBCOMMANDS: dict[str, CommandHandler] = {
    "help": show_help,
    "upload": open_upload_modal,
    "datasets": show_datasets,
    "dataset": change_dataset,
    "start": start_tuning,
    "status": show_status,
    "list": list_models,
    "try": try_model,
    "compare": compare_models,
    "eval": evaluate_model,
    "delete": confirm_delete,
    "promote": promote_model,
    "aliases": show_aliases,
    "cancel": confirm_cancel,
    "audit": show_audit,
    "policy": show_policy,
    "spend": show_spend,
    "sweep": run_sweep,
}
ALIASES = {"?": "help"}


async def unknown_subcommand(ctx: AppContext, request: CommandRequest) -> None:
    guess = did_you_mean(request.name, SUBCOMMANDS)
    text, help_ = blocks.help_blocks(unknown_subcommand_text(request.name, guess))
    await request.ack(text=text, blocks=help_)


def handler_for(name: str) -> CommandHandler:
    return SUBCOMMANDS.get(ALIASES.get(name, name), unknown_subcommand)


async def tune(ctx: AppContext, request: CommandRequest) -> None:
    """One `/tune` command, whatever its subcommand."""
    try:
        await handler_for(request.name)(ctx, request)
    except (UsageError, UserError, BackendError) as exc:
        message = error_text(exc)
        if request.ack.done:
            await request.respond(text=message, response_type="ephemeral")
        else:
            await request.ack(text=message)


def register(app: AsyncApp, ctx: AppContext) -> None:
    async def tune_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        await answer_at_ack(
            lambda acked: tune(ctx, CommandRequest.from_payload(command, ack=acked, respond=respond)),
            ack,
            kind="/tune",
        )

    app.command("/tune")(tune_command)
