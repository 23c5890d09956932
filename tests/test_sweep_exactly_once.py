"""A sweep's leaderboard and end notice appear once whatever the processes do: one process at a
time holds a sweep (its lease), two replicas on one PostgreSQL database refreshing the same
sweep while Slack is slow post one leaderboard and one notice, and a `tunebot run` (Vertex AI
backend) killed with SIGKILL while the variants tune or while the end notice is on its way is
followed by one that takes the sweep over, finds what it posted, and finishes the sweep."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.datasets.samples import tutorial_csv
from bot.slack.sweeps import BOARD_EVENT_TYPE, NOTICE_EVENT_TYPE, SweepBoards
from bot.storage.models import Sweep, TuningJob, utcnow
from bot.storage.store import Store
from standins.emulator.running import RunningEmulator
from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack, Message, Workspace
from tests.helpers.databases import postgres_schema_url
from tests.helpers.holding_proxy import HoldingProxy
from tests.helpers.processes import SECRET, BotProcess
from tests.helpers.slack import OWNER, eventually
from tests.test_start_recovery import bot_env


def sweep_messages(workspace: Workspace, event_type: str) -> list[Message]:
    return [
        m
        for m in workspace.messages(DEFAULT_CHANNEL, include_replies=True, include_deleted=True)
        if (m.metadata or {}).get("event_type") == event_type
    ]


def ended_sweep(store: Store) -> Sweep:
    """A sweep of two variants that have both ended (one failed, one cancelled): its board is
    final and its notice due."""
    sweep = store.sweeps.create(
        Sweep(
            team_id="T1",
            owner_user_id=OWNER,
            channel_id=DEFAULT_CHANNEL,
            dataset_name="tutorial",
            grid=json.dumps({"epochs": ["2", "4"]}),
        )
    )
    for epochs, state in ((2, "failed"), (4, "cancelled")):
        store.jobs.create(
            TuningJob(
                team_id="T1",
                owner_user_id=OWNER,
                channel_id=DEFAULT_CHANNEL,
                backend="vertex",
                display_name=f"tutorial e{epochs}",
                base_model="gemini-2.5-flash",
                epoch_count=epochs,
                batch_size=0,
                learning_rate=0.0,
                state=state,
                sweep_id=sweep.id,
            )
        )
    return sweep


def test_one_process_at_a_time_holds_a_sweep_and_a_dead_ones_is_taken_over(database_url: str) -> None:
    store = Store.from_url(database_url)
    try:
        sweep = ended_sweep(store)
        assert sweep.id is not None
        now = utcnow()
        [mine] = store.sweeps.claim(owner="first", now=now, lease_seconds=60)
        assert mine.id == sweep.id and mine.lease_owner == "first"
        assert store.sweeps.claim(owner="second", now=now, lease_seconds=60) == []
        assert store.sweeps.update_leased(sweep.id, "first", message_state="posting")
        later = now + timedelta(seconds=61)  # the first process died: its lease ran out
        [taken] = store.sweeps.claim(owner="second", now=later, lease_seconds=60)
        assert taken.message_state == "posting"  # what the dead one left: look before posting
        assert store.sweeps.claim(owner="third", now=later, lease_seconds=60) == []
        # The first process, back from a long pause, can no longer write.
        assert not store.sweeps.update_leased(sweep.id, "first", message_ts="1.000001")
        assert store.sweeps.update_leased(sweep.id, "second", message_ts="1.000002", notice_state="posted")
        assert store.sweeps.release(sweep.id, "second")
        much_later = later + timedelta(hours=1)  # its notice is posted: never claimed again
        assert store.sweeps.claim(owner="fourth", now=much_later, lease_seconds=60) == []
        row = store.sweeps.get(sweep.id)
        assert row is not None and row.message_ts == "1.000002" and row.lease_owner is None
    finally:
        store.engine.dispose()


async def test_two_replicas_refreshing_one_sweep_while_slack_is_slow_post_one_board_and_one_notice() -> None:
    """Two processes (each its own Store and connection pool) on one PostgreSQL database run
    their cycles at once while every post takes a second: one of them holds the sweep and
    posts; the other, running cycles meanwhile, sees a sweep it cannot take (without the
    lease it saw "posting", searched, found nothing yet, and posted a second board)."""
    with (
        postgres_schema_url() as url,
        FakeSlack(Workspace(rate_limits=False)).serve() as slack,
    ):
        stores = [Store.from_url(url), Store.from_url(url)]
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        try:
            sweep = ended_sweep(stores[0])
            assert sweep.id is not None
            replicas = [
                SweepBoards(s, client, owner=f"replica-{n}", lease_seconds=60) for n, s in enumerate(stores)
            ]
            slack.workspace.delay("chat.postMessage", 1.0, times=2)  # the board and the notice

            both = asyncio.gather(*(r.run_due() for r in replicas))  # the same moment: one claims

            def posting() -> Sweep | None:
                row = stores[1].sweeps.get(sweep.id or 0)
                return row if row is not None and row.message_state == "posting" else None

            holder = (await eventually(posting)).lease_owner
            [other] = [r for r in replicas if r.owner != holder]
            assert holder in ("replica-0", "replica-1")
            for _ in range(3):  # more cycles of the other replica while the board is on its way
                await other.run_due()
            assert sweep_messages(slack.workspace, BOARD_EVENT_TYPE) == []  # still on its way
            await both
            for _ in range(2):  # later cycles of both change nothing
                await asyncio.gather(*(r.run_due() for r in replicas))

            [board] = sweep_messages(slack.workspace, BOARD_EVENT_TYPE)
            [notice] = sweep_messages(slack.workspace, NOTICE_EVENT_TYPE)
            assert notice.thread_ts == board.ts and "Sweep 1 has ended" in notice.text
            assert "Ended; no variant has a score" in board.text
            posts = [c for c in slack.workspace.calls("chat.postMessage") if "tunebot_sweep" in str(c.params)]
            assert len(posts) == 2
            final = stores[0].sweeps.get(sweep.id)
            assert final is not None and final.notice_state == "posted" and final.lease_owner is None
        finally:
            for store in stores:
                store.engine.dispose()


# ---------------------------------------------------------------- a real process, killed

SWEEP = "sweep tutorial epochs=1,2 learning_rate_multiplier=0.5,1 validation=20%"


def vertex_bot(services: tuple[RunningEmulator, FakeSlack], workdir: Path, name: str) -> BotProcess:
    emulator, slack = services
    return BotProcess(bot_env("vertex", slack, emulator.url, workdir), workdir, name)


def started(store: Store) -> list[TuningJob] | None:
    """The sweep's four variants once each is recorded as created by the tuning service."""
    variants = store.sweeps.variants(1)
    return variants if len(variants) == 4 and all(v.operation_name for v in variants) else None


def third_create() -> Callable[[str, str], bool]:
    """Holds the answer to the third tuning-job create (Vertex made the job; tunebot never hears)."""
    seen = 0

    def hold(method: str, path: str) -> bool:
        nonlocal seen
        if method == "POST" and path.endswith("/tuningJobs"):
            seen += 1
            return seen == 3
        return False

    return hold


@pytest.mark.parametrize("kill_at", ["starting", "tuning", "notice"])
def test_killed_during_a_sweep_the_next_process_ends_it_with_one_board_and_one_notice(
    services: tuple[RunningEmulator, FakeSlack], tmp_path: Path, kill_at: str
) -> None:
    """SIGKILL while the variants are still starting (the third one's create reached Vertex AI,
    the fourth was not sent), while they tune (the board is posted or being edited), or while
    the end notice is on its way to Slack (Slack stores it after the process died): the next
    process finds the third variant by its request label, starts the fourth once the dead
    one's start hold expired (no create twice), takes the sweep over once the dead one's
    lease expires, finds what it posted by its metadata, and the channel ends with one
    leaderboard showing every variant ended and one notice in its thread."""
    emulator, slack = services
    workspace = slack.workspace
    store = Store.from_url(f"sqlite:///{tmp_path / 'tunebot.db'}")
    proxy = HoldingProxy(emulator.url, hold=third_create()).__enter__() if kill_at == "starting" else None
    first = (
        BotProcess(bot_env("vertex", slack, proxy.url, tmp_path), tmp_path, "first")
        if proxy is not None
        else vertex_bot(services, tmp_path, "first")
    ).start()
    second: BotProcess | None = None
    try:
        file = workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)

        async def sweep_then_kill() -> None:
            sender = slack.sender(first.url, SECRET)
            await sender.message(OWNER, DEFAULT_CHANNEL, f"<@{workspace.bot_user_id}> data", files=[file])
            await workspace.async_wait_for(lambda: workspace.ephemerals(user=OWNER), 20)
            await sender.slash_command(OWNER, SWEEP)
            await sender.aclose()
            if proxy is not None:
                assert await asyncio.to_thread(proxy.held.wait, 20), first.log()
                first.kill()
                return
            await eventually(lambda: started(store), 20)
            if kill_at == "notice":
                # Every post now takes a second at Slack: the kill comes while the
                # notice's is on its way.
                workspace.delay("chat.postMessage", 1.0, times=100)
                await eventually(
                    lambda: (lambda s: s is not None and s.notice_state == "claimed")(store.sweeps.get(1)), 30
                )
            first.kill()

        asyncio.run(sweep_then_kill())
        workspace.clear_faults()
        killed = store.sweeps.get(1)
        assert killed is not None and killed.notice_state != "posted"
        if kill_at == "starting":
            assert killed.start_state == "starting" and len(store.sweeps.variants(1)) == 3
        second = vertex_bot(services, tmp_path, "second").start()
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            row = store.sweeps.get(1)
            if row is not None and row.notice_state == "posted":
                break
            time.sleep(0.2)
        assert row is not None and row.notice_state == "posted", (
            [
                (v.display_name, v.state, v.eval_state, v.notice_state, v.lease_owner)
                for v in store.sweeps.variants(1)
            ],
            second.log(),
        )
        time.sleep(0.5)  # a few more poll cycles: nothing is posted again
        [board] = sweep_messages(workspace, BOARD_EVENT_TYPE)
        [notice] = sweep_messages(workspace, NOTICE_EVENT_TYPE)
        assert row.message_ts == board.ts and notice.thread_ts == board.ts
        variants = store.sweeps.variants(1)
        assert len(variants) == 4 and all(v.state == "succeeded" for v in variants)
        assert "Ended." in board.text and board.text.count(":trophy:") == 1
        for label in ("e1 lr×0.5", "e1 lr×1", "e2 lr×0.5", "e2 lr×1"):
            assert f"*{label}*" in board.text, board.text
        assert "Sweep 1 has ended" in notice.text
        assert len(emulator.emulator.vertex.create_requests) == 4  # no variant created twice
        assert len({v.model_name for v in variants}) == 4
        assert (store.sweeps.get(1) or killed).start_state == "started"
    finally:
        first.kill()
        if proxy is not None:
            proxy.__exit__()
        if second is not None:
            second.stop()
        store.engine.dispose()
