"""The same Slack conversation against each tuning backend (the emulator's Gemini API and
Vertex AI surfaces): what users type and see does not depend on the backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.datasets.samples import tutorial_csv
from bot.slack.reporter import NOTICE_EVENT_TYPE
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    buttons,
    ephemerals_for,
    eventually,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)


@pytest.fixture(params=["gemini", "vertex"])
def any_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend=request.param) as running:
        yield running


async def ephemeral_answer(stack: OfflineStack, user: str, text: str) -> Ephemeral:
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, user))
    await stack.sender.slash_command(user, text)
    return await next_ephemeral(stack, user, seen)


async def test_upload_tune_try_list_and_delete(any_stack: OfflineStack) -> None:
    stack = any_stack
    assert stack.sender is not None and stack.emulator is not None and stack.runtime is not None
    backend = stack.runtime.ctx.backend.name

    stored = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert "Stored dataset *tutorial*: 15 examples" in stored.text

    sent = await stack.sender.slash_command(OWNER, 'start tutorial name="Number generator" epochs=5')
    assert "Starting tuning on dataset `tutorial`" in ack_body(sent)["text"]
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    assert job.backend == backend and job.model_name
    assert "Number generator" in all_text(stack.workspace.message(CHANNEL, job.message_ts or "") or {})

    stack.emulator.emulator.finish_all()
    report = await stack.poll(all_due=True)
    assert report.notices == 1
    await stack.poll(all_due=True)
    thread = stack.workspace.thread(CHANNEL, job.message_ts or "")
    notices = [m for m in thread if (m.metadata or {}).get("event_type") == NOTICE_EVENT_TYPE]
    assert len(notices) == 1
    assert f"<@{OWNER}>" in all_text(notices[0]) and "is ready" in all_text(notices[0])
    final = stack.workspace.message(CHANNEL, job.message_ts or "")
    assert final is not None and "100%" in all_text(final)

    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"try {job.model_name} 55")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert answers() == ["56"]

    listing = await ephemeral_answer(stack, OWNER, "list")
    assert "Number generator" in all_text(listing) and f"owner: <@{OWNER}>" in all_text(listing)

    refusal = await ephemeral_answer(stack, OTHER, f"delete {job.model_name}")
    assert f"Only <@{OWNER}>" in refusal.text
    prompt_msg = await ephemeral_answer(stack, OWNER, f"delete {job.model_name}")
    [delete] = buttons(prompt_msg)
    await stack.sender.block_action(
        OWNER,
        delete["action_id"],
        delete["value"],
        CHANNEL,
        message_ts=prompt_msg.message_ts,
        is_ephemeral=True,
    )
    await wait_for(stack, lambda: "Deleted" in prompt_msg.text)
    after = await ephemeral_answer(stack, OWNER, "list")
    assert "Number generator" not in all_text(after)
