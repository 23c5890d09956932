"""Driving the real bot through the fake Slack: what a user types and clicks, what they see."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.slack.retries import PacedRetryHandler
from bot.storage.store import Store
from standins.emulator.running import FrozenClock
from standins.fakeslack import DEFAULT_CHANNEL, Ephemeral, Message, SentRequest, View
from standins.offline import OfflineConfig, OfflineStack
from tests.helpers.clock import ManualClock
from tests.helpers.emulator import RecordingSleep

T = TypeVar("T")

OWNER = "U0OWNER"
OTHER = "U0OTHER"
ADMIN = "U0ADMIN"
CHANNEL = DEFAULT_CHANNEL


@contextmanager
def running_stack(tmp_path: Path, backend: str = "gemini", **overrides: Any) -> Iterator[OfflineStack]:
    """The production bot over HTTP, a fake Slack with the three test users, and an emulator
    on a frozen clock (1 s per step) serving `backend`; `overrides` are OfflineConfig fields.
    (The `stack` fixture in tests/conftest.py is this with the defaults.)

    The fake Slack enforces Slack's rate limits on a manual clock of its own, which the bot's
    Slack client moves when it waits out a 429 (`slack_time`), so limits cost no real time."""
    config = OfflineConfig(
        database_url=f"sqlite:///{tmp_path / 'tunebot.db'}",
        emulator_clock=FrozenClock(),
        admins=(ADMIN,),
        backend=backend,
        **(slack_time() | overrides),
    )
    with OfflineStack(config) as running:
        for user, name in ((OWNER, "olivia"), (OTHER, "oscar"), (ADMIN, "ada")):
            running.workspace.add_user(user, name)
        yield running


def slack_time() -> dict[str, Any]:
    """OfflineConfig fields for a fake Slack enforcing its rate limits on a manual clock, and a
    bot that waits on Slack (Retry-After, its pacing of edits and posts) by moving that clock:
    the limits hold in that clock's time and no real time passes."""
    clock = ManualClock()
    return {"slack_clock": clock, "slack_sleep": clock.pass_time}


def store_of(stack: OfflineStack) -> Store:
    assert stack.runtime is not None
    return stack.runtime.ctx.store


async def wait_for(stack: OfflineStack, predicate: Callable[[], T], timeout: float = 10.0) -> T:
    """Wait for a condition on Slack's side."""
    return await stack.workspace.async_wait_for(predicate, timeout)


def instant_slack_retries(stack: OfflineStack) -> RecordingSleep:
    """The bot's Slack client stops waiting between retries (rate limits, 5xx, broken
    connections); the returned sleep records the waits it would have made (and moves the fake
    Slack's manual clock by them, if it has one, as `slack_time` does)."""
    assert stack.runtime is not None
    clock = stack.workspace.clock
    sleeps = RecordingSleep(clock.pass_time if isinstance(clock, ManualClock) else None)
    for handler in stack.runtime.ctx.client.retry_handlers:
        assert isinstance(handler, PacedRetryHandler), handler
        handler.sleep = sleeps
    return sleeps


async def eventually(predicate: Callable[[], T], timeout: float = 10.0) -> T:
    """Wait for a condition on anything (the database, the emulator)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


def ephemerals_for(stack: OfflineStack, user: str) -> list[Ephemeral]:
    return [e for e in stack.workspace.ephemerals(user=user) if not e.deleted]


async def next_ephemeral(stack: OfflineStack, user: str, seen: int, timeout: float = 10.0) -> Ephemeral:
    """The first ephemeral message `user` receives after the `seen` they had already."""
    return await wait_for(
        stack, lambda: (lambda es: es[seen] if len(es) > seen else None)(ephemerals_for(stack, user)), timeout
    )


def ack_body(sent: SentRequest) -> dict[str, Any]:
    """What the bot answered in its ack: Bolt sends plain text or a JSON message."""
    if not sent.text.strip():
        return {}
    if "json" in sent.response.headers.get("content-type", ""):
        body = sent.json()
        return body if isinstance(body, dict) else {}
    return {"text": sent.text}


def all_text(item: Message | Ephemeral | dict[str, Any]) -> str:
    """Everything a reader sees: the fallback text and every text in the blocks."""
    if isinstance(item, dict):
        text, blocks = str(item.get("text") or ""), item.get("blocks") or []
    else:
        text, blocks = item.text or "", item.blocks or []
    parts = [text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(blocks)
    return "\n".join(parts)


def buttons(item: Message | Ephemeral) -> list[dict[str, Any]]:
    found = []
    for block in item.blocks or []:
        if block.get("type") == "actions":
            found.extend(e for e in block.get("elements", []) if e.get("type") == "button")
    return found


def bot_posts(stack: OfflineStack, channel: str = CHANNEL) -> list[Message]:
    return [m for m in stack.workspace.messages(channel) if m.is_bot and not m.is_reply]


async def command(stack: OfflineStack, user: str, text: str) -> Ephemeral | str:
    """Run a slash command; returns the ack's text, or the ephemeral answer that followed."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, user))
    sent = await stack.sender.slash_command(user, text)
    assert sent.status_code == 200
    ack = ack_body(sent).get("text")
    if ack:
        return str(ack)
    return await next_ephemeral(stack, user, seen)


async def open_start_form(stack: OfflineStack, user: str) -> View:
    """`/tune start` alone: the start form the bot opens for `user`."""
    assert stack.sender is not None
    views_before = len(stack.workspace.views(user))
    await stack.sender.slash_command(user, "start")
    return await wait_for(
        stack, lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(user))
    )


async def upload_file(
    stack: OfflineStack, user: str, file_name: str, content: bytes, **fields: str
) -> Ephemeral:
    """`/tune upload`, choose the file in the modal, submit; returns the uploader's answer."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, user))
    views_before = len(stack.workspace.views(user))
    response = await stack.sender.slash_command(user, "upload")
    assert response.status_code == 200
    view = await wait_for(
        stack, lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(user))
    )
    assert view.callback_id == "tune_upload"
    file = stack.workspace.add_file(file_name, content, user=user)
    values: dict[str, Any] = {"file": {"file": {"type": "file_input", "files": [file]}}}
    for block_id, value in fields.items():
        values[block_id] = {block_id: value}
    submitted = await stack.sender.view_submission(user, view, values)
    assert submitted.status_code == 200
    return await next_ephemeral(stack, user, seen)


async def shown_answer(stack: OfflineStack, user: str, text: str, channel: str = CHANNEL) -> str:
    """Everything `user` sees in answer to `/tune text` in `channel`: the ack's text and blocks,
    or (when the ack only says it is working on it) the ephemeral answer that follows."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, user))
    sent = await stack.sender.slash_command(user, text, channel_id=channel)
    body = ack_body(sent)
    if body.get("text") and not str(body["text"]).startswith(":hourglass:"):
        return all_text(body)
    return all_text(await next_ephemeral(stack, user, seen))


async def click(stack: OfflineStack, user: str, asked: Ephemeral, label: str) -> Ephemeral:
    """Click the button labelled `label` on the ephemeral `asked`; returns it, once replaced."""
    assert stack.sender is not None
    [button] = [b for b in buttons(asked) if b["text"]["text"] == label]
    before = asked.text
    await stack.sender.block_action(
        user,
        button["action_id"],
        button["value"],
        asked.channel,
        message_ts=asked.message_ts,
        is_ephemeral=True,
    )
    await wait_for(stack, lambda: asked.text != before)
    return asked


async def delete_dataset(stack: OfflineStack, user: str, name: str) -> str:
    """`/tune dataset delete <name>` and Delete on the confirmation; the answer `user` sees."""
    asked = await command(stack, user, f"dataset delete {name}")
    assert isinstance(asked, Ephemeral) and buttons(asked), asked
    return (await click(stack, user, asked, "Delete")).text
