"""Many jobs in one channel, with the fake Slack enforcing Slack's rate limits on a manual
clock: the bot plans its calls so Slack never has to refuse one (bot/polling/slackplan.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.datasets.samples import TUTORIAL_EXAMPLES
from bot.gemini import GeminiClient, TuningExample
from bot.slack.reporter import NOTICE_EVENT_TYPE, PROGRESS_EVENT_TYPE, SlackReporter
from bot.storage.models import TuningJob
from standins.fakeslack import Message
from standins.offline import OFFLINE_API_KEY, OfflineStack
from tests.helpers.clock import ManualClock
from tests.helpers.slack import CHANNEL, OWNER, eventually, running_stack, store_of

JOBS = 12  # four times the burst a channel takes at once
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path) as stack:
        assert stack.workspace.rate_limits.enabled and stack.runtime is not None
        reporter = stack.runtime.poller.reporter
        assert isinstance(reporter, SlackReporter)
        reporter.chart = lambda *_: PNG  # drawing charts is not what this test is about
        yield stack


async def seed_jobs(stack: OfflineStack, count: int) -> None:
    assert stack.emulator is not None
    examples = [TuningExample(text_input=e.text_input, output=e.output) for e in TUTORIAL_EXAMPLES]
    async with GeminiClient(OFFLINE_API_KEY, base_url=stack.emulator.url) as client:
        for n in range(count):
            operation = await client.create_tuned_model(
                display_name=f"job {n}", base_model="models/gemini-1.5-flash-001-tuning", examples=examples
            )
            assert operation.metadata is not None
            store_of(stack).jobs.create(
                TuningJob(
                    team_id="T0TEAM",
                    owner_user_id=OWNER,
                    channel_id=CHANNEL,
                    display_name=f"job {n}",
                    base_model="models/gemini-1.5-flash-001-tuning",
                    model_name=operation.metadata.tuned_model,
                    operation_name=operation.name,
                    epoch_count=5,
                    batch_size=4,
                    learning_rate=0.001,
                )
            )


def by_type(stack: OfflineStack, event_type: str) -> list[Message]:
    messages = stack.workspace.messages(CHANNEL)
    return [m for m in messages if (m.metadata or {}).get("event_type") == event_type]


async def test_many_jobs_in_one_channel_get_their_messages_without_a_429(limited: OfflineStack) -> None:
    stack = limited
    assert stack.emulator is not None and stack.runtime is not None
    clock = stack.workspace.clock
    assert isinstance(clock, ManualClock)
    edits = stack.runtime.poller.edits
    assert edits is not None
    await seed_jobs(stack, JOBS)
    stack.emulator.advance(3)
    await stack.poll(all_due=True)  # posts every job message, one a second after a short burst
    assert len(by_type(stack, PROGRESS_EVENT_TYPE)) == JOBS

    # Edits now wait for the clock to move: two cycles of news before any of it can go out.
    edits.sleep = clock.sleep
    stack.emulator.advance(5)
    stack.runtime.ctx.store.jobs.make_all_due()
    await stack.arun(stack.runtime.poller.run_cycle())
    stack.emulator.advance(5)
    stack.runtime.ctx.store.jobs.make_all_due()
    await stack.arun(stack.runtime.poller.run_cycle())
    updates_before = len(stack.workspace.calls("chat.update"))
    while len(edits.plan):
        clock.advance(1.0)
        await eventually(lambda: clock.sleeping or not len(edits.plan))
    await stack.edits_sent()
    updates = stack.workspace.calls("chat.update")[updates_before:]
    # The newest state of each job replaced the older one: one edit per job, showing step 13.
    assert len(updates) <= JOBS
    for message in by_type(stack, PROGRESS_EVENT_TYPE):
        assert "step 13 /" in (message.text or ""), message.text
    edit_times = [c.time for c in stack.workspace.calls("chat.update")]
    assert edit_times == sorted(edit_times)

    # Every job ends in the same cycle: the notices are all posted by that cycle, their edits after.
    edits.sleep = clock.pass_time
    stack.emulator.advance(60)
    stack.runtime.ctx.store.jobs.make_all_due()
    report = await stack.arun(stack.runtime.poller.run_cycle())
    assert report.notices == JOBS
    assert len(by_type(stack, NOTICE_EVENT_TYPE)) == JOBS
    await stack.edits_sent()
    for message in by_type(stack, PROGRESS_EVENT_TYPE):
        assert "ready" in (message.text or ""), message.text
        thread = stack.workspace.thread(CHANNEL, message.ts)
        assert sum((m.metadata or {}).get("event_type") == NOTICE_EVENT_TYPE for m in thread) == 1

    refused = [c for c in stack.workspace.calls() if c.status == 429]
    assert refused == [], [(c.method, c.params.get("channel")) for c in refused]


async def test_an_edit_waiting_its_turn_does_not_undo_a_cancellation(limited: OfflineStack) -> None:
    stack = limited
    assert stack.emulator is not None and stack.runtime is not None
    clock = stack.workspace.clock
    assert isinstance(clock, ManualClock)
    edits = stack.runtime.poller.edits
    assert edits is not None
    await seed_jobs(stack, 2)
    stack.emulator.advance(3)
    await stack.poll(all_due=True)
    edits.sleep = clock.sleep  # edits wait for the clock: the second one is still queued
    stack.emulator.advance(5)
    stack.runtime.ctx.store.jobs.make_all_due()
    await stack.arun(stack.runtime.poller.run_cycle())
    [waiting] = [j for j in store_of(stack).jobs.active() if j.id in edits.plan]
    assert waiting.message_ts is not None
    # Meanwhile its model is deleted: the job is cancelled and its message says so.
    store_of(stack).jobs.update(waiting.id or 0, state="cancelled", notice_state="skipped")
    stack.workspace.update_message(CHANNEL, waiting.message_ts, text="cancelled by someone")
    while len(edits.plan):
        clock.advance(1.0)
        await eventually(lambda: clock.sleeping or not len(edits.plan))
    await stack.edits_sent()
    message = stack.workspace.message(CHANNEL, waiting.message_ts)
    assert message is not None and message.text == "cancelled by someone"
