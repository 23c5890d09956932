"""Progress polling: restarts, crashes between posting and recording, API and Slack faults."""

from __future__ import annotations

from typing import Any

import pytest

from bot.datasets.samples import TUTORIAL_EXAMPLES
from bot.gemini import GeminiClient, TuningExample
from bot.polling.poller import Poller
from bot.slack.reporter import PROGRESS_EVENT_TYPE
from bot.storage.models import TuningJob
from bot.storage.repositories.jobs import JobRepository
from bot.storage.store import Store
from standins.offline import OFFLINE_API_KEY, OfflineStack
from tests.helpers.polling import make_due, notices, poller_clock_ahead, start_tutorial_job
from tests.helpers.slack import CHANNEL, OWNER, all_text, instant_slack_retries, store_of


class SimulatedCrash(BaseException):
    """The process dying at a chosen line."""


def operation_polls(stack: OfflineStack) -> int:
    assert stack.emulator is not None
    stats: dict[str, Any] = stack.emulator.emulator.stats()
    return int(stats["by_method"].get("operations.get", 0))


async def test_a_restarted_bot_resumes_the_job_and_announces_it_once(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.emulator is not None
    stack.emulator.advance(19)  # half-way
    await stack.poll(all_due=True)
    assert "50%" in all_text(stack.workspace.message(CHANNEL, job.message_ts or "") or {})

    stack.restart_bot()  # jobs are reloaded from the database, nothing else is kept
    stack.emulator.advance(60)
    make_due(stack)
    report = await stack.poll(all_due=True)
    assert report.claimed == 1 and report.notices == 1
    make_due(stack)
    await stack.poll(all_due=True)
    assert len(notices(stack, job)) == 1
    message = stack.workspace.message(CHANNEL, job.message_ts or "")
    assert message is not None and "100%" in all_text(message)
    # Still exactly one job message: the restart did not post a second one.
    top_level = [m for m in stack.workspace.messages(CHANNEL) if m.is_bot and not m.is_reply]
    assert len(top_level) == 1


async def test_a_crash_between_posting_and_recording_the_notice_does_not_repeat_it(
    fast_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.emulator is not None and stack.runtime is not None
    stack.emulator.advance(60)
    real_update = JobRepository.update_leased

    def crash_when_recording(self: Store, job_id: int, owner: str, **changes: Any) -> bool:
        if changes.get("notice_state") == "posted":
            raise SimulatedCrash  # not an Exception: nothing in the poller catches it
        return real_update(self, job_id, owner, **changes)

    monkeypatch.setattr(JobRepository, "update_leased", crash_when_recording)
    make_due(stack)
    with pytest.raises(SimulatedCrash):
        await stack.poll(all_due=True)
    assert len(notices(stack, job)) == 1  # posted, but the database still says "posting"
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.notice_state == "posting"
    monkeypatch.setattr(JobRepository, "update_leased", real_update)

    stack.restart_bot()
    poller_clock_ahead(stack, 1.1)  # the dead process's lease (one second) has expired
    make_due(stack)
    await stack.poll(all_due=True)
    make_due(stack)
    await stack.poll(all_due=True)
    assert len(notices(stack, job)) == 1
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.notice_state == "done" and done.notice_ts == notices(stack, job)[0].ts
    assert len(stack.workspace.uploads(CHANNEL)) == 1


async def test_rate_limits_and_outages_from_the_api_do_not_lose_the_job(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.emulator is not None
    stack.emulator.emulator.update_faults(
        {
            "retry_after_seconds": 0.0,
            "scripted": [
                {"method": "operations.get", "code": 429, "times": 5},
                {"method": "operations.get", "code": 503, "times": 5},
            ],
        }
    )
    for _ in range(4):
        stack.emulator.advance(10)
        make_due(stack)
        await stack.poll(all_due=True)
        row = store_of(stack).jobs.get(job.id or 0)
        assert row is not None and row.state in ("queued", "running", "succeeded")
    stack.emulator.advance(60)
    for _ in range(3):
        make_due(stack)
        await stack.poll(all_due=True)
    final = store_of(stack).jobs.get(job.id or 0)
    assert final is not None and final.state == "succeeded" and final.notice_state == "done"
    assert len(notices(stack, job)) == 1
    assert stack.emulator.emulator.stats()["by_status"].get("429", 0) >= 1


async def test_an_api_outage_backs_off_the_job(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.emulator is not None
    stack.emulator.emulator.update_faults({"rate_503": 1.0})
    make_due(stack)
    report = await stack.poll(all_due=True)
    assert report.errors == 1
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.state == "queued" and row.poll_interval_seconds > 12


async def test_a_job_that_does_not_move_is_polled_less_often(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    intervals = []
    for _ in range(4):
        make_due(stack)
        await stack.poll(all_due=True)
        row = store_of(stack).jobs.get(job.id or 0)
        assert row is not None
        intervals.append(row.poll_interval_seconds)
    assert intervals == sorted(intervals) and intervals[-1] > intervals[0]
    assert stack.emulator is not None
    stack.emulator.advance(5)
    make_due(stack)
    await stack.poll(all_due=True)
    moved = store_of(stack).jobs.get(job.id or 0)
    assert moved is not None and moved.poll_interval_seconds == 12.0


async def test_slack_rate_limits_delay_messages_but_lose_none(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.emulator is not None
    waits = instant_slack_retries(stack)
    stack.workspace.rate_limit("chat.update", times=1, retry_after=1)
    stack.emulator.advance(10)
    make_due(stack)
    await stack.poll(all_due=True)
    message = stack.workspace.message(CHANNEL, job.message_ts or "")
    assert message is not None and "26%" in all_text(message)
    assert len(waits.calls) == 1 and 1.0 <= waits.calls[0] < 2.0  # Retry-After, plus jitter
    # The notice meets more rate limits than the client retries: it comes on a later cycle.
    stack.workspace.rate_limit("chat.postMessage", times=7, retry_after=0)
    stack.emulator.advance(60)
    make_due(stack)
    await stack.poll(all_due=True)
    make_due(stack)
    await stack.poll(all_due=True)
    assert len(notices(stack, job)) == 1
    # five retries on the first cycle, the sixth retry on the next
    assert len(waits.calls) == 1 + 6 and all(0.0 <= wait < 1.0 for wait in waits.calls[1:])
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.notice_state == "done"


async def test_a_model_deleted_while_tuning_is_no_longer_polled(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.sender is not None and job.model_name
    store_of(stack).ownership.mark_deleted(job.model_name, OWNER)
    before = operation_polls(stack)
    make_due(stack)
    report = await stack.poll(all_due=True)
    assert report.claimed == 0 and operation_polls(stack) == before


async def test_an_operation_that_vanished_marks_the_job_lost_and_tells_the_owner(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    job = await start_tutorial_job(stack)
    assert stack.emulator is not None and job.model_name
    stack.emulator.emulator.delete_tuned_model(job.model_name.removeprefix("tunedModels/"))
    make_due(stack)
    await stack.poll(all_due=True)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.state == "lost"
    [notice] = notices(stack, job)
    assert f"<@{OWNER}>" in all_text(notice) and "lost" in all_text(notice)


async def test_a_cycle_over_many_overlapping_batches_polls_and_posts_each_job_once(
    fast_stack: OfflineStack,
) -> None:
    """More jobs than one batch, few slots: later batches are claimed while earlier ones
    still run, and still every job is asked about once and gets one message."""
    stack = fast_stack
    assert stack.emulator is not None and stack.runtime is not None
    examples = [TuningExample(text_input=e.text_input, output=e.output) for e in TUTORIAL_EXAMPLES]
    async with GeminiClient(OFFLINE_API_KEY, base_url=stack.emulator.url) as client:
        operations = [
            await client.create_tuned_model(
                display_name=f"batch {n}", base_model="models/gemini-1.5-flash-001-tuning", examples=examples
            )
            for n in range(23)
        ]
    for n, operation in enumerate(operations):
        assert operation.metadata is not None
        store_of(stack).jobs.create(
            TuningJob(
                team_id="T0TEAM",
                owner_user_id=OWNER,
                channel_id=CHANNEL,
                display_name=f"batch {n}",
                base_model="models/gemini-1.5-flash-001-tuning",
                model_name=operation.metadata.tuned_model,
                operation_name=operation.name,
                epoch_count=5,
                batch_size=4,
                learning_rate=0.001,
            )
        )
    stack.emulator.advance(3)
    runtime = stack.runtime
    poller = Poller(
        runtime.ctx.store, runtime.ctx.backend, runtime.poller.reporter, concurrency=4, batch_size=3
    )

    report = await stack.arun(poller.run_cycle())

    assert (report.claimed, report.polled, report.errors) == (23, 23, 0)
    polls = stack.emulator.emulator.stats()["operations_get"]
    assert sorted(polls) == sorted(op.name for op in operations) and set(polls.values()) == {1}
    messages = [
        m
        for m in stack.workspace.messages(CHANNEL)
        if (m.metadata or {}).get("event_type") == PROGRESS_EVENT_TYPE
    ]
    assert sorted(m.text.split(":")[0] for m in messages) == sorted(f"batch {n}" for n in range(23))
    assert all("step 3 /" in m.text for m in messages)
    jobs = store_of(stack).jobs.active()
    assert len(jobs) == 23 and all(j.lease_owner is None and j.message_state == "posted" for j in jobs)
