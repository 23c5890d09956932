"""`tunebot run` killed with SIGKILL mid-upload and mid-poll: after a restart the database
holds no half-written dataset, and no job is lost or announced twice."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.datasets.samples import tutorial_csv
from bot.slack.reporter import NOTICE_EVENT_TYPE, PROGRESS_EVENT_TYPE
from bot.storage.models import Dataset, DatasetContent, TuningJob
from bot.storage.store import Store
from standins.emulator.running import RunningEmulator
from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack
from tests.helpers.processes import SECRET, BotProcess
from tests.helpers.slack import OWNER


def bot(services: tuple[RunningEmulator, FakeSlack], workdir: Path, name: str) -> BotProcess:
    emulator, slack = services
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "GOOGLE_API_KEY": "crash-test-key",
        "TUNEBOT_BACKEND": "gemini",
        "GEMINI_API_BASE": emulator.url,
        "DATABASE_URL": f"sqlite:///{workdir / 'tunebot.db'}",
        "TUNEBOT_POLL_INTERVAL": "0.3",
        "TUNEBOT_MAX_POLL_INTERVAL": "0.6",
        "TUNEBOT_LEASE_SECONDS": "2",
    }
    return BotProcess(env, workdir, name)


def big_jsonl(examples: int) -> bytes:
    return "".join(
        json.dumps({"text_input": f"question {n} " + "x" * 80, "output": f"answer {n}"}) + "\n"
        for n in range(examples)
    ).encode()


def datasets_are_whole(store: Store) -> int:
    """Every dataset row has its examples, every examples blob has its row; returns the count."""
    with store.session() as session:
        datasets = session.exec(select(Dataset)).all()
        contents = {c.dataset_id for c in session.exec(select(DatasetContent)).all()}
    assert {d.id for d in datasets} == contents
    for dataset in datasets:
        assert dataset.id is not None
        assert len(store.datasets.examples(dataset.id)) == dataset.example_count
    return len(datasets)


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8])
def test_killed_during_an_upload_leaves_no_half_dataset(
    services: tuple[RunningEmulator, FakeSlack], tmp_path: Path, delay: float
) -> None:
    _, slack = services
    first = bot(services, tmp_path, "first").start()
    sender = slack.sender(first.url, SECRET)
    file = slack.workspace.add_file("big.jsonl", big_jsonl(60_000), user=OWNER)

    async def upload_then_kill() -> None:
        await sender.message(OWNER, DEFAULT_CHANNEL, f"<@{slack.workspace.bot_user_id}> here", files=[file])
        deadline = time.monotonic() + 10
        while not slack.workspace.downloads and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(delay)  # somewhere in downloading, parsing or storing
        first.kill()
        await sender.aclose()

    asyncio.run(upload_then_kill())
    second = bot(services, tmp_path, "second").start()
    try:
        store = Store.from_url(f"sqlite:///{tmp_path / 'tunebot.db'}")
        stored = datasets_are_whole(store)
        assert stored in (0, 1)
        # The user can simply upload again; a complete earlier copy is recognised.
        again = slack.sender(second.url, SECRET)
        seen = len(slack.workspace.ephemerals(user=OWNER))
        asyncio.run(
            again.message(OWNER, DEFAULT_CHANNEL, f"<@{slack.workspace.bot_user_id}> again", files=[file])
        )
        answer = slack.workspace.wait_for(
            lambda: (lambda es: es[seen] if len(es) > seen else None)(slack.workspace.ephemerals(user=OWNER)),
            30,
        )
        assert "Stored dataset *big*: 60,000 examples" in answer.text or "already stored" in answer.text
        assert datasets_are_whole(store) == 1
        store.engine.dispose()
    finally:
        second.stop()


def test_killed_during_polling_loses_no_job_and_repeats_no_notice(
    services: tuple[RunningEmulator, FakeSlack], tmp_path: Path
) -> None:
    _, slack = services
    first = bot(services, tmp_path, "first").start()
    sender = slack.sender(first.url, SECRET)
    file = slack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)

    async def start_jobs() -> None:
        await sender.message(OWNER, DEFAULT_CHANNEL, f"<@{slack.workspace.bot_user_id}> data", files=[file])
        slack.workspace.wait_for(lambda: slack.workspace.ephemerals(user=OWNER), 20)
        for n in range(6):
            await sender.slash_command(OWNER, f'start tutorial name="job {n}" epochs=2')
        await sender.aclose()

    asyncio.run(start_jobs())
    store = Store.from_url(f"sqlite:///{tmp_path / 'tunebot.db'}")
    # Kill while jobs are tuning and being polled, with some notices perhaps going out.
    time.sleep(1.2)
    first.kill()
    second = bot(services, tmp_path, "second").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with store.session() as session:
                jobs = session.exec(select(TuningJob)).all()
            if len(jobs) == 6 and all(j.notice_state == "done" for j in jobs):
                break
            time.sleep(0.3)
        assert len(jobs) == 6 and all(j.state == "succeeded" and j.notice_state == "done" for j in jobs), [
            (j.display_name, j.state, j.notice_state) for j in jobs
        ]
        messages = slack.workspace.messages(DEFAULT_CHANNEL, include_replies=True)
        for kind in (NOTICE_EVENT_TYPE, PROGRESS_EVENT_TYPE):
            ids = [
                str((m.metadata or {}).get("event_payload", {}).get("job_id"))
                for m in messages
                if (m.metadata or {}).get("event_type") == kind
            ]
            assert sorted(ids) == sorted(str(j.id) for j in jobs), kind
        assert len(slack.workspace.uploads(DEFAULT_CHANNEL)) == 6
    finally:
        second.stop()
        store.engine.dispose()
