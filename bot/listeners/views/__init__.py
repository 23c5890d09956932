"""Modal submissions, registered from `VIEWS` (callback_id -> listener)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.listeners.requests import ViewHandler, ViewRequest
from bot.listeners.views.decline import decline_submitted
from bot.listeners.views.policy import policy_submitted
from bot.listeners.views.start import start_submitted
from bot.listeners.views.sweep import sweep_submitted
from bot.listeners.views.upload import upload_submitted
from bot.presentation import approvals, blocks
from bot.presentation.spend_home import POLICY_CALLBACK
from bot.presentation.sweep_form import SWEEP_CALLBACK
from bot.slack.acks import answer_at_ack
from bot.slack.context import AppContext

VIEWS: dict[str, ViewHandler] = {
    blocks.UPLOAD_CALLBACK: upload_submitted,
    blocks.START_CALLBACK: start_submitted,
    SWEEP_CALLBACK: sweep_submitted,
    approvals.DECLINE_CALLBACK: decline_submitted,
    POLICY_CALLBACK: policy_submitted,
}


def register(app: AsyncApp, ctx: AppContext) -> None:
    for callback_id, handler in VIEWS.items():
        app.view(callback_id)(_listener(ctx, handler))


def _listener(ctx: AppContext, handler: ViewHandler) -> Callable[..., Awaitable[None]]:
    async def listener(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        await answer_at_ack(
            lambda acked: handler(ctx, ViewRequest(ack=acked, body=body, view=view)),
            ack,
            kind="view_submission",
        )

    listener.__name__ = listener.__qualname__ = getattr(handler, "__name__", "listener")
    return listener
