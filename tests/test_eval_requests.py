"""`/tune eval` stored like a job: its thread, its report and its CSV each appear once, through
Slack storing a message and then answering 500, a connection cut after Slack stored it, and a
SIGKILL of `tunebot run` while the evaluation runs (the report arrives after the restart)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

import bot.polling.eval_requests
from bot.datasets.samples import TUTORIAL_EXAMPLES, tutorial_csv
from bot.domain.states import EvalRequestState
from bot.domain.types import TrainingExample
from bot.gemini import GeminiClient, TuningExample
from bot.storage.models import EvalRequest, utcnow
from bot.storage.repositories.eval_requests import EvalRequestRepository
from bot.storage.store import Store
from standins.emulator.running import RunningEmulator
from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack, Message, StoredFile, Workspace
from standins.offline import OfflineStack
from tests.helpers.polling import poller_clock_ahead
from tests.helpers.processes import SECRET, BotProcess
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    ephemerals_for,
    eventually,
    store_of,
    wait_for,
)

EVALUATING = "is evaluating"


class SimulatedCrash(BaseException):
    """The process dying at a chosen line."""


def eval_threads(workspace: Workspace, channel: str = CHANNEL) -> list[Message]:
    """The top-level messages that open a `/tune eval` thread (as it runs, or once it is done)."""
    return [
        m
        for m in workspace.messages(channel, include_replies=False)
        if m.is_bot and any(EVALUATING in text or "evaluated `" in text for text in m.texts or [m.text])
    ]


def reports(workspace: Workspace, parent: Message) -> list[Message]:
    return [m for m in workspace.thread(parent.channel, parent.ts) if m.is_reply and m.blocks]


def csvs(workspace: Workspace, channel: str = CHANNEL) -> list[StoredFile]:
    return [f for f in workspace.uploads(channel) if f.name.endswith(".csv")]


def settled(workspace: Workspace, channel: str = CHANNEL) -> bool:
    """One thread, with its report and its CSV, and its first message no longer says it is running."""
    threads = eval_threads(workspace, channel)
    return bool(
        threads
        and reports(workspace, threads[0])
        and csvs(workspace, channel)
        and EVALUATING not in threads[0].text
    )


async def model_and_dataset(stack: OfflineStack) -> str:
    """A model tuned (outside tunebot) on the tutorial examples, which it answers right, and those
    examples stored as dataset `tutorial`; returns the model's name."""
    assert stack.emulator is not None
    store_of(stack).datasets.add(
        team_id=stack.workspace.team_id,
        owner_user_id=OWNER,
        channel_id=CHANNEL,
        name="tutorial",
        file_name="tutorial.csv",
        format="csv",
        sha256="0" * 64,
        examples=[TrainingExample(e.text_input, e.output) for e in TUTORIAL_EXAMPLES],
    )
    client = GeminiClient("offline-emulator-key", base_url=stack.emulator.url)
    try:
        operation = await client.create_tuned_model(
            display_name="numbers",
            base_model="models/gemini-1.5-flash-001-tuning",
            examples=[TuningExample(e.text_input, e.output) for e in TUTORIAL_EXAMPLES],
            epoch_count=1,
            batch_size=15,
        )
    finally:
        await client.aclose()
    stack.emulator.advance(60)
    assert operation.metadata is not None and operation.metadata.tuned_model
    return operation.metadata.tuned_model


async def eval_with_faults(stack: OfflineStack, fault: Callable[[str, int], None]) -> None:
    """`/tune eval` while every post of it (the thread, the report, the CSV) meets `fault`."""
    model = await model_and_dataset(stack)
    assert stack.sender is not None
    fault("chat.postMessage", 2)  # the thread's first message, then the report
    fault("files.completeUploadExternal", 1)
    seen = len(ephemerals_for(stack, OTHER))
    await stack.sender.slash_command(OTHER, f"eval {model} tutorial")
    await wait_for(stack, lambda: settled(stack.workspace))
    for _ in range(2):  # later cycles find nothing left to do
        await stack.poll(all_due=True)
    [parent] = eval_threads(stack.workspace)
    [report] = reports(stack.workspace, parent)
    assert "base 0% → tuned 100%" in all_text(report)
    [upload] = csvs(stack.workspace)
    assert upload.thread_ts == parent.ts and upload.content.count(b"\n") == 16
    told = [e.text for e in ephemerals_for(stack, OTHER)[seen:]]
    assert not any("refused" in text for text in told), told
    assert EVALUATING in parent.texts[0] and "evaluated `" in parent.text


async def test_slack_storing_the_posts_then_answering_500_leaves_one_report_and_one_csv(
    fast_stack: OfflineStack,
) -> None:
    workspace = fast_stack.workspace
    await eval_with_faults(fast_stack, lambda method, times: workspace.fail_after_storing(method, times))


async def test_a_connection_cut_after_slack_stored_the_posts_leaves_one_report_and_one_csv(
    fast_stack: OfflineStack,
) -> None:
    workspace = fast_stack.workspace
    await eval_with_faults(fast_stack, lambda method, times: workspace.drop_after_storing(method, times))


async def test_an_eval_in_a_channel_slack_refuses_is_answered_and_not_retried(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    model = await model_and_dataset(stack)
    assert stack.sender is not None
    stack.workspace.fail("chat.postMessage", "is_archived")
    seen = len(ephemerals_for(stack, OTHER))
    await stack.sender.slash_command(OTHER, f"eval {model} tutorial")
    refusal = await wait_for(
        stack, lambda: next((e for e in ephemerals_for(stack, OTHER)[seen:] if "refused" in e.text), None)
    )
    assert "is_archived" in refusal.text
    calls = len(stack.workspace.calls("chat.postMessage"))
    await stack.poll(all_due=True)
    assert len(stack.workspace.calls("chat.postMessage")) == calls  # given up, not posted later
    assert eval_threads(stack.workspace) == [] and store_of(stack).eval_requests.pending() == []


async def test_an_eval_makes_only_the_moves_in_the_table(
    fast_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, StrEnum]] = []
    checked = bot.polling.eval_requests.advance

    def recording(current: str, to: EvalRequestState) -> EvalRequestState:
        made.append((str(current), to))
        return checked(current, to)

    monkeypatch.setattr(bot.polling.eval_requests, "advance", recording)
    stack = fast_stack
    model = await model_and_dataset(stack)
    assert stack.sender is not None
    await stack.sender.slash_command(OTHER, f"eval {model} tutorial")
    await wait_for(stack, lambda: settled(stack.workspace))
    await eventually(lambda: not store_of(stack).eval_requests.pending())
    assert [(current, to.value) for current, to in made] == [
        ("queued", "opening"),
        ("opening", "opened"),
        ("opened", "evaluated"),
        ("evaluated", "posting"),
        ("posting", "posted"),
        ("posted", "done"),
    ]


async def test_a_crash_after_slack_took_the_report_posts_it_once_and_evaluates_once(
    fast_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = fast_stack
    model = await model_and_dataset(stack)
    assert stack.emulator is not None
    store = store_of(stack)
    dataset = store.datasets.by_name(stack.workspace.team_id, "tutorial")
    assert dataset is not None and dataset.id is not None
    # What `/tune eval` stored, in a process that died before it ran it (its lease is one second).
    store.eval_requests.create(
        EvalRequest(
            team_id=stack.workspace.team_id,
            channel_id=CHANNEL,
            user_id=OTHER,
            model_name=model,
            base_model="models/gemini-1.5-flash-001-tuning",
            dataset_id=dataset.id,
            dataset_name=dataset.name,
            example_count=dataset.example_count,
        ),
        owner="a-dead-process",
        now=utcnow(),
        lease_seconds=1.0,
    )
    real_update = EvalRequestRepository.update_leased

    def crash_when_recording(
        self: EvalRequestRepository, request_id: int, owner: str, **changes: Any
    ) -> bool:
        if changes.get("state") == EvalRequestState.POSTED:
            raise SimulatedCrash
        return real_update(self, request_id, owner, **changes)

    monkeypatch.setattr(EvalRequestRepository, "update_leased", crash_when_recording)
    poller_clock_ahead(stack, 1.1)  # the dead process's lease has expired
    with pytest.raises(SimulatedCrash):
        await stack.poll()
    [parent] = eval_threads(stack.workspace)
    assert len(reports(stack.workspace, parent)) == 1  # posted, but the database says "posting"
    [row] = store.eval_requests.pending()
    assert row.state == "posting"
    calls = stack.emulator.emulator.runtime.stats.by_method["models.generateContent"]
    monkeypatch.setattr(EvalRequestRepository, "update_leased", real_update)

    stack.restart_bot()
    poller_clock_ahead(stack, 2.2)
    await stack.poll()
    await stack.poll()
    assert settled(stack.workspace)
    assert len(eval_threads(stack.workspace)) == 1 and len(reports(stack.workspace, parent)) == 1
    assert len(csvs(stack.workspace)) == 1
    # The stored report was posted: the models were not asked again.
    assert stack.emulator.emulator.runtime.stats.by_method["models.generateContent"] == calls
    assert store_of(stack).eval_requests.pending() == []


def test_one_process_at_a_time_holds_a_request_and_a_dead_ones_is_taken_over(database_url: str) -> None:
    store = Store.from_url(database_url)
    try:
        now = utcnow()
        request = store.eval_requests.create(
            EvalRequest(
                team_id="T1",
                channel_id="C1",
                user_id="U1",
                model_name="tunedModels/numbers-abc",
                base_model="models/gemini-1.5-flash-001-tuning",
                dataset_id=1,
                dataset_name="numbers",
                example_count=12,
            ),
            owner="first",
            now=now,
            lease_seconds=60,
        )
        assert request.id is not None
        assert store.eval_requests.claim(owner="second", now=now, lease_seconds=60) == []
        later = now + timedelta(seconds=61)  # the first process died: its lease ran out
        [claimed] = store.eval_requests.claim(owner="second", now=later, lease_seconds=60)
        assert claimed.id == request.id
        assert store.eval_requests.claim(owner="third", now=later, lease_seconds=60) == []
        # The first process, back from a long pause, can no longer write.
        assert not store.eval_requests.update_leased(request.id, "first", state=EvalRequestState.OPENING)
        assert store.eval_requests.update_leased(request.id, "second", state=EvalRequestState.OPENING)
        assert store.eval_requests.release(request.id, "second")
        [again] = store.eval_requests.claim(owner="third", now=later, lease_seconds=60)
        assert again.state == "opening"
        store.eval_requests.update_leased(request.id, "third", state=EvalRequestState.REFUSED)
        much_later = later + timedelta(hours=1)  # settled: never claimed again
        assert store.eval_requests.claim(owner="fourth", now=much_later, lease_seconds=60) == []
    finally:
        store.engine.dispose()


# ---------------------------------------------------------------- a real process, killed


def bot_process(services: tuple[RunningEmulator, FakeSlack], workdir: Path, name: str) -> BotProcess:
    emulator, slack = services
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "GOOGLE_API_KEY": "crash-test-key",
        "TUNEBOT_BACKEND": "gemini",
        "GEMINI_API_BASE": emulator.url,
        "DATABASE_URL": f"sqlite:///{workdir / 'tunebot.db'}",
        "TUNEBOT_POLL_INTERVAL": "0.2",
        "TUNEBOT_LEASE_SECONDS": "1",
    }
    return BotProcess(env, workdir, name)


async def tuned_model(emulator: RunningEmulator, name: str = "numbers") -> str:
    """A model tuned outside tunebot (it asks the service for its base model)."""
    client = GeminiClient("crash-test-key", base_url=emulator.url)
    try:
        operation = await client.create_tuned_model(
            display_name=name,
            base_model="models/gemini-1.5-flash-001-tuning",
            examples=[TuningExample(str(n), str(n + 1)) for n in range(20)],
            epoch_count=1,
            batch_size=4,
        )
        assert operation.metadata is not None and operation.metadata.tuned_model
        model = operation.metadata.tuned_model
        deadline = time.monotonic() + 20
        while (await client.get_tuned_model(model)).state != "ACTIVE":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        return model
    finally:
        await client.aclose()


@pytest.mark.parametrize("models", [1, 2])
def test_killed_while_evaluating_the_report_arrives_once_after_the_restart(
    services: tuple[RunningEmulator, FakeSlack], tmp_path: Path, models: int
) -> None:
    """One model (its report), or two (`/tune eval a,b <dataset>`: one leaderboard)."""
    emulator, slack = services
    workspace = slack.workspace
    model = ",".join(asyncio.run(tuned_model(emulator, f"numbers {n}")) for n in range(models))
    first = bot_process(services, tmp_path, "first").start()
    second: BotProcess | None = None
    try:
        file = workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)

        async def eval_then_kill() -> None:
            sender = slack.sender(first.url, SECRET)
            await sender.message(OWNER, DEFAULT_CHANNEL, f"<@{workspace.bot_user_id}> data", files=[file])
            await workspace.async_wait_for(lambda: workspace.ephemerals(user=OWNER), 20)
            # Every call to the service takes two seconds: the kill comes while the evaluation waits.
            emulator.emulator.update_faults({"latency_seconds": 2.0})
            await sender.slash_command(OWNER, f"eval {model} tutorial")
            await workspace.async_wait_for(lambda: eval_threads(workspace, DEFAULT_CHANNEL), 20)
            first.kill()
            await sender.aclose()

        asyncio.run(eval_then_kill())
        emulator.emulator.update_faults({"latency_seconds": 0.0})
        assert not reports(workspace, eval_threads(workspace, DEFAULT_CHANNEL)[0])
        second = bot_process(services, tmp_path, "second").start()
        workspace.wait_for(lambda: settled(workspace, DEFAULT_CHANNEL), 30)
        time.sleep(0.5)  # a few more poll cycles: nothing is posted again
        [parent] = eval_threads(workspace, DEFAULT_CHANNEL)
        assert len(reports(workspace, parent)) == 1 and len(csvs(workspace, DEFAULT_CHANNEL)) == 1
        assert ("evaluated `" if models == 1 else "evaluated 2 models") in parent.text, parent.text
    finally:
        first.kill()
        if second is not None:
            second.stop()
