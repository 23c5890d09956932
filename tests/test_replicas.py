"""Several `tunebot run` processes sharing PostgreSQL: each job polled by one of them at a
time (row leases, FOR UPDATE SKIP LOCKED), every job announced exactly once, and a killed
process's jobs finished by the other."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.datasets.samples import TUTORIAL_EXAMPLES
from bot.gemini import GeminiClient, TuningExample
from bot.slack.reporter import NOTICE_EVENT_TYPE, PROGRESS_EVENT_TYPE
from bot.storage.models import TuningJob
from bot.storage.store import Store
from standins.emulator import EmulatorConfig, FaultConfig
from standins.emulator.running import RunningEmulator, start_emulator
from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack, Workspace
from tests.helpers.databases import postgres_schema_url
from tests.helpers.processes import BotProcess

JOBS = 200
OWNER = "U0OWNER"
KEY = "replica-test-key"


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_schema_url() as url:
        Store.from_url(url).engine.dispose()  # schema created once, before the replicas start
        yield url


@pytest.fixture
def services() -> Iterator[tuple[RunningEmulator, FakeSlack]]:
    # Odd-numbered jobs fail (their notice quotes Google's error), even ones succeed (notice + chart).
    faults = FaultConfig(fail_models=("replica *[13579]",))
    # Slack's rate limits off: two real processes on the wall clock would wait out one post a
    # second in the channel for 400 posts (minutes). The limits are on in the single-process
    # end-to-end tests and the bench's rate-limit row, on manual clocks.
    with (
        start_emulator(EmulatorConfig(step_seconds=0.25, faults=faults)) as emulator,
        FakeSlack(Workspace(rate_limits=False)).serve() as slack,
    ):
        slack.workspace.add_user(OWNER, "olivia")
        for channel in CHANNELS[1:]:
            slack.workspace.add_channel(channel, channel.lower())
        yield emulator, slack


# The jobs are spread over 20 channels: the bot posts about one message a second in a
# channel, as Slack allows, so 400 posts in one channel would take minutes.
CHANNELS = [DEFAULT_CHANNEL, *(f"C0REPLICA{n:02d}" for n in range(1, 20))]


def create_jobs(database_url: str, emulator: RunningEmulator, count: int) -> list[int]:
    """`count` tuned models (12 steps each) and the tunebot jobs that follow them."""
    examples = [TuningExample(text_input=e.text_input, output=e.output) for e in TUTORIAL_EXAMPLES]

    async def create() -> list[tuple[str, str]]:
        async with GeminiClient(KEY, base_url=emulator.url) as client:
            limit = asyncio.Semaphore(20)

            async def one(n: int) -> tuple[str, str]:
                async with limit:
                    operation = await client.create_tuned_model(
                        display_name=f"replica {n}",
                        base_model="models/gemini-1.5-flash-001-tuning",
                        examples=examples,
                        epoch_count=4,
                        batch_size=5,
                        learning_rate=0.001,
                    )
                assert operation.metadata is not None and operation.metadata.tuned_model
                return operation.metadata.tuned_model, operation.name

            return await asyncio.gather(*(one(n) for n in range(count)))

    store = Store.from_url(database_url)
    ids = []
    for n, (model, operation) in enumerate(asyncio.run(create())):
        job = store.jobs.create(
            TuningJob(
                team_id="T0TEAM",
                owner_user_id=OWNER,
                channel_id=CHANNELS[n % len(CHANNELS)],
                display_name=f"replica {n}",
                base_model="models/gemini-1.5-flash-001-tuning",
                model_name=model,
                operation_name=operation,
                epoch_count=4,
                batch_size=5,
                learning_rate=0.001,
                total_steps=12,
            )
        )
        assert job.id is not None
        ids.append(job.id)
    store.engine.dispose()
    return ids


def replica(
    database_url: str, emulator: RunningEmulator, slack: FakeSlack, workdir: Path, name: str
) -> BotProcess:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": "replica-signing-secret",
        "SLACK_API_URL": slack.api_url,
        "GOOGLE_API_KEY": KEY,
        "TUNEBOT_BACKEND": "gemini",
        "GEMINI_API_BASE": emulator.url,
        "DATABASE_URL": database_url,
        "TUNEBOT_POLL_INTERVAL": "0.5",
        "TUNEBOT_MAX_POLL_INTERVAL": "1",
        "TUNEBOT_LEASE_SECONDS": "4",
        "LOG_LEVEL": "INFO",
    }
    return BotProcess(env, workdir, name)


def notice_counts(slack: FakeSlack) -> Counter[str]:
    counts: Counter[str] = Counter()
    for message in (m for c in CHANNELS for m in slack.workspace.messages(c, include_replies=True)):
        meta = message.metadata or {}
        if meta.get("event_type") == NOTICE_EVENT_TYPE:
            counts[str(meta["event_payload"]["job_id"])] += 1
    return counts


def wait_until_all_announced(
    database_url: str, ids: list[int], processes: list[BotProcess], timeout: float
) -> None:
    store = Store.from_url(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with store.session() as session:
                done = sum(
                    1 for i in ids if (job := session.get(TuningJob, i)) and job.notice_state == "done"
                )
            if done == len(ids):
                return
            time.sleep(0.3)
        logs = "\n\n".join(p.log()[-3000:] for p in processes)
        raise AssertionError(f"only {done} of {len(ids)} jobs announced in {timeout}s\n{logs}")
    finally:
        store.engine.dispose()


def check_exactly_once(slack: FakeSlack, database_url: str, ids: list[int]) -> None:
    counts = notice_counts(slack)
    assert sorted(counts) == sorted(str(i) for i in ids)
    assert set(counts.values()) == {1}, {k: v for k, v in counts.items() if v != 1}
    progress_messages = [
        m
        for c in CHANNELS
        for m in slack.workspace.messages(c)
        if (m.metadata or {}).get("event_type") == PROGRESS_EVENT_TYPE
    ]
    assert len(progress_messages) == len(ids)  # one job message per job, never a second one
    store = Store.from_url(database_url)
    with store.session() as session:
        states = Counter()
        for i in ids:
            job = session.get(TuningJob, i)
            assert job is not None and job.notice_ts and job.notice_state == "done"
            expected = "failed" if job.display_name[-1] in "13579" else "succeeded"
            assert job.state == expected, (job.display_name, job.state)
            states[job.state] += 1
    store.engine.dispose()
    assert states == {"succeeded": len(ids) // 2, "failed": len(ids) // 2}
    # A chart for every job (the failed ones have loss points too: #13 item 2), each uploaded once.
    assert sum(len(slack.workspace.uploads(c)) for c in CHANNELS) == len(ids)


def test_two_replicas_share_200_jobs_and_announce_each_once(
    database_url: str, services: tuple[RunningEmulator, FakeSlack], tmp_path: Path
) -> None:
    emulator, slack = services
    ids = create_jobs(database_url, emulator, JOBS)
    processes = [replica(database_url, emulator, slack, tmp_path, name) for name in ("a", "b")]
    try:
        for process in processes:
            process.start()
        wait_until_all_announced(database_url, ids, processes, timeout=90)
    finally:
        for process in processes:
            process.stop()
    check_exactly_once(slack, database_url, ids)
    # Both replicas did work.
    for process in processes:
        assert "poll cycle:" in process.log()


def test_when_a_replica_is_killed_the_other_finishes_its_jobs(
    database_url: str, services: tuple[RunningEmulator, FakeSlack], tmp_path: Path
) -> None:
    emulator, slack = services
    ids = create_jobs(database_url, emulator, JOBS)
    doomed = replica(database_url, emulator, slack, tmp_path, "doomed")
    survivor = replica(database_url, emulator, slack, tmp_path, "survivor")
    try:
        doomed.start()
        survivor.start()
        time.sleep(2.0)  # both are mid-run: jobs leased, messages posted, some notices going out
        doomed.kill()
        wait_until_all_announced(database_url, ids, [doomed, survivor], timeout=120)
    finally:
        doomed.kill()
        survivor.stop()
    check_exactly_once(slack, database_url, ids)
