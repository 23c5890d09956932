"""Approval requests through the real bot and the fake Slack: asking as the start path does,
finding the request's messages, clicking their buttons."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import select

from bot.datasets.samples import tutorial_csv
from bot.domain.approvals import ApprovalStart, given_hyperparameters
from bot.domain.spend import StartDecision, StartRule, Verdict
from bot.presentation.approvals import ACTION_APPROVE, ACTION_DECLINE, ACTION_WITHDRAW, REQUEST_EVENT_TYPE
from bot.services.datasets import lookup_dataset
from bot.services.jobs import resolve_base_model
from bot.slack.approvals import ask_approval
from bot.slack.commands import parse_start
from bot.storage.models import ApprovalRequest, TuningJob
from standins.fakeslack import Message, SentRequest
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, OWNER, buttons, store_of, upload_file, wait_for

APPROVER = "U0APPROVER"
SECOND_APPROVER = "U0SECOND"
ACTIONS = {"Approve": ACTION_APPROVE, "Decline": ACTION_DECLINE, "Withdraw": ACTION_WITHDRAW}
RULE = StartDecision(Verdict.APPROVE, StartRule.APPROVAL_ABOVE, Decimal("10"))


def dm_of(user: str) -> str:
    """The fake Slack's id of the bot's DM with `user`."""
    return "D" + user[1:]


async def upload_tutorial(stack: OfflineStack, user: str = OWNER) -> None:
    await upload_file(stack, user, "tutorial.csv", tutorial_csv())


async def ask(
    stack: OfflineStack,
    *,
    user: str = OWNER,
    channel: str = CHANNEL,
    text: str = "tutorial epochs=3",
    estimate: str = "12.50",
    summary: str = "40 examples, ≈ 1,000 tokens",
    decision: StartDecision = RULE,
    jobs: int = 1,
) -> str:
    """What the start path does with a start over a limit (`jobs` of them at once, as a sweep
    would ask); returns the ack's text."""
    assert stack.runtime is not None
    ctx = stack.runtime.ctx
    args = parse_start(text)
    dataset = lookup_dataset(store_of(stack), stack.workspace.team_id, args.dataset)
    assert dataset is not None and dataset.id is not None
    start = ApprovalStart(
        args=args,
        dataset_id=dataset.id,
        dataset_name=dataset.display_name,
        base_model=resolve_base_model(args.base_model, ctx.backend),
        summary=summary,
        hyperparameters=given_hyperparameters(args),
        estimate=Decimal(estimate),
    )
    return await stack.arun(
        ask_approval(
            ctx,
            team_id=stack.workspace.team_id,
            requester_user_id=user,
            channel_id=channel,
            starts=[start] * jobs,
            currency="USD",
            month_spent=Decimal("30"),
            decision=decision,
        )
    )


def request_messages(stack: OfflineStack, channel: str) -> list[Message]:
    """The approval requests' messages (top level) in `channel`."""
    return [
        m
        for m in stack.workspace.messages(channel, include_replies=False)
        if (m.metadata or {}).get("event_type") == REQUEST_EVENT_TYPE
    ]


async def request_message(stack: OfflineStack, channel: str, index: int = -1) -> Message:
    await wait_for(stack, lambda: request_messages(stack, channel))
    return request_messages(stack, channel)[index]


def button(message: Message, label: str) -> dict[str, Any]:
    [found] = [b for b in buttons(message) if b["text"]["text"] == label]
    return found


async def press(
    stack: OfflineStack, user: str, message: Message, label: str, *, value: str | None = None
) -> SentRequest:
    """`user` clicks the button `label` of `message` (or sends `value` in its place: a forged
    click, or one on the message as it was shown before an edit took the button away)."""
    assert stack.sender is not None
    shown = [b for b in buttons(message) if b["text"]["text"] == label]
    if value is None:
        [pressed] = shown
        value = str(pressed["value"])
    return await stack.sender.block_action(
        user,
        ACTIONS[label],
        value,
        message.channel,
        message_ts=message.ts,
    )


def jobs_of(stack: OfflineStack) -> list[TuningJob]:
    store = store_of(stack)
    with store.session() as session:
        return list(session.exec(select(TuningJob)).all())


def requests_of(stack: OfflineStack) -> list[ApprovalRequest]:
    store = store_of(stack)
    with store.session() as session:
        return list(session.exec(select(ApprovalRequest)).all())
