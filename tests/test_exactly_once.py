"""Messages that must appear once (job message, notice, loss chart) when Slack stores a
post and then answers 500, drops the connection before answering, or refuses it."""

from __future__ import annotations

import pytest

from bot.datasets.samples import tutorial_csv
from bot.slack.reporter import PROGRESS_EVENT_TYPE
from standins.fakeslack import Message
from standins.offline import OfflineStack
from tests.helpers.polling import make_due, notices, start_tutorial_job
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    ephemerals_for,
    eventually,
    next_ephemeral,
    store_of,
    upload_file,
)

FAULTS = ["fail_after_storing", "drop_after_storing"]


def job_messages(stack: OfflineStack) -> list[Message]:
    return [
        m
        for m in stack.workspace.messages(CHANNEL, include_replies=False)
        if (m.metadata or {}).get("event_type") == PROGRESS_EVENT_TYPE
    ]


async def finish(stack: OfflineStack, cycles: int = 3) -> None:
    assert stack.emulator is not None
    stack.emulator.advance(60)
    for _ in range(cycles):
        make_due(stack)
        await stack.poll(all_due=True)


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_notice_stored_before_an_error_is_not_posted_again(
    fast_stack: OfflineStack, fault: str
) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    getattr(stack.workspace, fault)("chat.postMessage")
    await finish(stack)
    assert len(notices(stack, job)) == 1
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.notice_state == "done" and row.notice_ts == notices(stack, job)[0].ts
    assert len(stack.workspace.uploads(CHANNEL)) == 1


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_job_message_stored_before_an_error_is_not_posted_again(
    fast_stack: OfflineStack, fault: str
) -> None:
    stack = fast_stack
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    getattr(stack.workspace, fault)("chat.postMessage")
    await stack.sender.slash_command(OWNER, "start tutorial")
    await eventually(lambda: job_messages(stack))
    [job] = await eventually(lambda: [j for j in store_of(stack).jobs.active() if j.lease_owner is None])
    make_due(stack)
    await stack.poll(all_due=True)
    [message] = job_messages(stack)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.message_ts == message.ts
    await finish(stack)
    assert len(job_messages(stack)) == 1 and len(notices(stack, row)) == 1


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_chart_stored_before_an_error_is_not_uploaded_again(
    fast_stack: OfflineStack, fault: str
) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    getattr(stack.workspace, fault)("files.completeUploadExternal")
    await finish(stack)
    assert len(stack.workspace.uploads(CHANNEL)) == 1
    assert len(notices(stack, job)) == 1


async def test_a_job_message_refused_twice_is_posted_on_a_later_cycle(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    stack.workspace.fail("chat.postMessage", times=2)
    seen = len(ephemerals_for(stack, OWNER))
    await stack.sender.slash_command(OWNER, "start tutorial")
    # The start path polls the new job once and tells the owner its message is not there yet;
    # only then are both refusals used up and the job free for the cycles below.
    note = await next_ephemeral(stack, OWNER, seen)
    assert "could not post its progress message" in note.text
    [job] = await eventually(lambda: [j for j in store_of(stack).jobs.active() if j.lease_owner is None])
    for _ in range(3):
        make_due(stack)
        await stack.poll(all_due=True)
    [message] = job_messages(stack)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.message_ts == message.ts
    await finish(stack)
    assert len(job_messages(stack)) == 1
    [notice] = notices(stack, row)
    assert notice.thread_ts == message.ts


async def test_a_job_message_refused_twice_appears_before_the_notice_when_the_job_ends_first(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    assert stack.sender is not None and stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    stack.workspace.fail("chat.postMessage", times=2)
    seen = len(ephemerals_for(stack, OWNER))
    await stack.sender.slash_command(OWNER, "start tutorial")
    await next_ephemeral(stack, OWNER, seen)
    [job] = await eventually(lambda: [j for j in store_of(stack).jobs.active() if j.lease_owner is None])
    # The job ends before the next try, which Slack refuses too (the second refusal).
    await finish(stack)
    [message] = job_messages(stack)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.message_ts == message.ts and row.notice_state == "done"
    assert "ready" in (message.text or "")  # drawn in its final state
    [notice] = notices(stack, row)
    assert notice.thread_ts == message.ts
    assert float(message.ts) < float(notice.ts)
