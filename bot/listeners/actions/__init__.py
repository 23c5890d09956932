"""Button clicks, registered from `ACTIONS` (an action_id, or a pattern for a family of them)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.listeners.actions.approvals import approve_clicked, decline_clicked, withdraw_clicked
from bot.listeners.actions.cancel_job import cancel_clicked
from bot.listeners.actions.datasets_page import show_datasets_page
from bot.listeners.actions.delete_dataset import delete_dataset_clicked, keep_dataset_clicked
from bot.listeners.actions.delete_model import delete_clicked
from bot.listeners.actions.list_page import show_models_page
from bot.listeners.actions.policy import edit_policy_clicked
from bot.listeners.actions.promote_alias import keep_alias_clicked, promote_clicked
from bot.listeners.actions.start_form import start_form_changed
from bot.listeners.actions.try_model import try_clicked
from bot.listeners.requests import ActionHandler, ActionRequest
from bot.presentation import aliases, approvals, blocks
from bot.presentation.cancel import ACTION_CANCEL_JOB
from bot.presentation.costs import ESTIMATE_FIELDS
from bot.presentation.spend_home import ACTION_EDIT_POLICY
from bot.slack.acks import answer_at_ack
from bot.slack.context import AppContext

ACTIONS: list[tuple[str | re.Pattern[str], ActionHandler]] = [
    (re.compile(f"^{blocks.ACTION_LIST_PAGE}_"), show_models_page),
    (re.compile(f"^{blocks.ACTION_DATASETS_PAGE}_"), show_datasets_page),
    (blocks.ACTION_DELETE, delete_clicked),
    (blocks.ACTION_TRY, try_clicked),
    (blocks.ACTION_DELETE_DATASET, delete_dataset_clicked),
    (blocks.ACTION_KEEP_DATASET, keep_dataset_clicked),
    (aliases.ACTION_PROMOTE, promote_clicked),
    (aliases.ACTION_KEEP_ALIAS, keep_alias_clicked),
    # the start form's fields its estimate follows (dispatch_action; bot.presentation.costs)
    (re.compile(f"^({'|'.join(ESTIMATE_FIELDS)})$"), start_form_changed),
    (ACTION_CANCEL_JOB, cancel_clicked),
    (approvals.ACTION_APPROVE, approve_clicked),
    (approvals.ACTION_DECLINE, decline_clicked),
    (approvals.ACTION_WITHDRAW, withdraw_clicked),
    (ACTION_EDIT_POLICY, edit_policy_clicked),
]


def register(app: AsyncApp, ctx: AppContext) -> None:
    for action_id, handler in ACTIONS:
        app.action(action_id)(_listener(ctx, handler))


def _listener(ctx: AppContext, handler: ActionHandler) -> Callable[..., Awaitable[None]]:
    async def listener(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await answer_at_ack(
            lambda acked: handler(ctx, ActionRequest(ack=acked, respond=respond, body=body, action=action)),
            ack,
            kind="block_actions",
        )

    listener.__name__ = listener.__qualname__ = getattr(handler, "__name__", "listener")
    return listener
