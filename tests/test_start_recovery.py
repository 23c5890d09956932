"""`tunebot run` killed (SIGKILL) after the tuning service created the model but before
`/tune start` recorded the answer: the next process finds the model by the id tunebot
chose (Gemini model id, Vertex request label), records its owner, polls it and
announces it once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.datasets.samples import tutorial_csv
from bot.slack.reporter import NOTICE_EVENT_TYPE, PROGRESS_EVENT_TYPE
from bot.storage.models import ModelOwnership, TuningJob
from bot.storage.store import Store
from standins.emulator.running import RunningEmulator
from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack
from standins.offline import (
    OFFLINE_VERTEX_BUCKET,
    OFFLINE_VERTEX_LOCATION,
    OFFLINE_VERTEX_PROJECT,
    OFFLINE_VERTEX_TOKEN,
)
from tests.helpers.holding_proxy import HoldingProxy
from tests.helpers.processes import SECRET, BotProcess
from tests.helpers.slack import OWNER


def creates(method: str, path: str) -> bool:
    return method == "POST" and path.endswith(("/tunedModels", "/tuningJobs"))


def bot_env(backend: str, slack: FakeSlack, api_base: str, workdir: Path) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'tunebot.db'}",
        "TUNEBOT_POLL_INTERVAL": "0.3",
        "TUNEBOT_MAX_POLL_INTERVAL": "0.6",
        "TUNEBOT_LEASE_SECONDS": "2",
        "TUNEBOT_BACKEND": backend,
    }
    if backend == "gemini":
        return {**env, "GOOGLE_API_KEY": "crash-test-key", "GEMINI_API_BASE": api_base}
    return {
        **env,
        "VERTEX_PROJECT": OFFLINE_VERTEX_PROJECT,
        "VERTEX_LOCATION": OFFLINE_VERTEX_LOCATION,
        "VERTEX_BUCKET": OFFLINE_VERTEX_BUCKET,
        "VERTEX_ACCESS_TOKEN": OFFLINE_VERTEX_TOKEN,
        "VERTEX_API_BASE": api_base,
        "GCS_API_BASE": api_base,
    }


def jobs_of(store: Store) -> list[TuningJob]:
    with store.session() as session:
        return list(session.exec(select(TuningJob)).all())


@pytest.mark.parametrize("backend", ["gemini", "vertex"])
def test_killed_between_create_and_record_the_model_is_found_owned_and_announced_once(
    services: tuple[RunningEmulator, FakeSlack], tmp_path: Path, backend: str
) -> None:
    emulator, slack = services
    store = Store.from_url(f"sqlite:///{tmp_path / 'tunebot.db'}")
    with HoldingProxy(emulator.url, hold=creates) as proxy:
        first = BotProcess(bot_env(backend, slack, proxy.url, tmp_path), tmp_path, "first").start()
        try:
            sender = slack.sender(first.url, SECRET)
            file = slack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)

            async def start() -> None:
                mention = f"<@{slack.workspace.bot_user_id}> data"
                await sender.message(OWNER, DEFAULT_CHANNEL, mention, files=[file])
                slack.workspace.wait_for(lambda: slack.workspace.ephemerals(user=OWNER), 20)
                await sender.slash_command(OWNER, "start tutorial")
                await sender.aclose()

            asyncio.run(start())
            assert proxy.held.wait(20), first.log()  # the service created the model ...
            first.kill()  # ... and tunebot died before hearing so
        finally:
            first.kill()
    [job] = jobs_of(store)
    assert job.notice_state == "starting"
    with store.session() as session:
        assert session.exec(select(ModelOwnership)).all() == []

    second = BotProcess(bot_env(backend, slack, emulator.url, tmp_path), tmp_path, "second").start()
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            [job] = jobs_of(store)
            if job.notice_state == "done":
                break
            time.sleep(0.2)
        assert job.state == "succeeded" and job.notice_state == "done", (job, second.log())
        owner = store.ownership.get(job.model_name or "")
        assert owner is not None and owner.owner_user_id == OWNER and owner.job_id == job.id
        messages = slack.workspace.messages(DEFAULT_CHANNEL, include_replies=True)
        for kind in (PROGRESS_EVENT_TYPE, NOTICE_EVENT_TYPE):
            assert [m for m in messages if (m.metadata or {}).get("event_type") == kind] != []
            assert len([m for m in messages if (m.metadata or {}).get("event_type") == kind]) == 1, kind
        stats = emulator.emulator.stats()["by_method"]
        assert (
            sum(
                n
                for method, n in stats.items()
                if method.endswith(("tunedModels.create", "tuningJobs.create"))
            )
            == 1
        ), stats
    finally:
        second.stop()
        store.engine.dispose()
