"""Two tunebot replicas on one PostgreSQL database, both receiving an Approve for the same
request at once (two approvers' clicks, and Slack's retry of one of them landing on the other
replica): one approval, one job, one APPROVE in the audit log.

Two complete bots (each its own runtime, Store, connection pool, Bolt app and HTTP server) in
one test process, sharing the database, the fake Slack and the tuning emulator: what two
`tunebot run` processes share. Each click goes to its replica over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.audit import AuditAction
from bot.runtime import Runtime, build_runtime, create_asgi_app
from bot.storage.store import Store
from standins.emulator.running import FrozenClock
from standins.fakeslack import SlackRequestSender
from standins.loopback import BackgroundServer
from standins.offline import OFFLINE_SIGNING_SECRET, OfflineConfig, OfflineStack
from tests.helpers.approvals import (
    ACTIONS,
    APPROVER,
    SECOND_APPROVER,
    ask,
    button,
    dm_of,
    jobs_of,
    request_messages,
    requests_of,
    upload_tutorial,
)
from tests.helpers.databases import postgres_schema_url
from tests.helpers.slack import OWNER, ephemerals_for, eventually, slack_time, store_of, wait_for

REQUESTS = 4


@pytest.fixture
def database_url() -> Iterator[str]:
    with postgres_schema_url() as url:
        Store.from_url(url).engine.dispose()  # the schema made once, before the replicas start
        yield url


def refused(stack: OfflineStack) -> list[str]:
    return [
        e.text
        for user in (APPROVER, SECOND_APPROVER)
        for e in ephemerals_for(stack, user)
        if "already decided" in e.text
    ]


class Replica:
    """A second bot on the first one's settings (database, Slack, emulator)."""

    def __init__(self, stack: OfflineStack) -> None:
        self.runtime: Runtime = build_runtime(stack.settings)
        self.runtime.schedule_polls = False
        self.server = BackgroundServer(create_asgi_app(self.runtime)).start()
        self.sender: SlackRequestSender = stack.slack.sender(self.server.url, OFFLINE_SIGNING_SECRET)

    def stop(self) -> None:
        self.server.stop()
        self.runtime.ctx.store.engine.dispose()


async def test_two_replicas_approving_at_once_start_one_job(database_url: str, tmp_path: Path) -> None:
    config = OfflineConfig(
        database_url=database_url,
        emulator_clock=FrozenClock(),
        settings={"TUNEBOT_APPROVERS": f"{APPROVER},{SECOND_APPROVER}"},
        **slack_time(),
    )
    with OfflineStack(config) as stack:
        for user, name in ((OWNER, "olivia"), (APPROVER, "amara"), (SECOND_APPROVER, "sami")):
            stack.workspace.add_user(user, name)
        other = Replica(stack)
        try:
            assert stack.sender is not None
            await upload_tutorial(stack)
            for _ in range(REQUESTS):
                await ask(stack)
            await wait_for(stack, lambda: len(request_messages(stack, dm_of(SECOND_APPROVER))) == REQUESTS)
            approve = ACTIONS["Approve"]
            for index in range(REQUESTS):
                first = request_messages(stack, dm_of(APPROVER))[index]
                second = request_messages(stack, dm_of(SECOND_APPROVER))[index]
                value = button(first, "Approve")["value"]
                assert value == button(second, "Approve")["value"]
                # At once: the first approver's click on this replica, the second approver's on
                # the other, and the first approver clicking again there; then Slack's retry of
                # the first click, delivered to the other replica.
                click, *_ = await asyncio.gather(
                    stack.sender.block_action(APPROVER, approve, value, first.channel, message_ts=first.ts),
                    other.sender.block_action(
                        SECOND_APPROVER, approve, value, second.channel, message_ts=second.ts
                    ),
                    other.sender.block_action(APPROVER, approve, value, first.channel, message_ts=first.ts),
                )
                retry = await other.sender.send(
                    click.body, "application/x-www-form-urlencoded", extra_headers={"X-Slack-Retry-Num": "1"}
                )
                assert retry.status_code == 200
            await eventually(lambda: all(r.job_ids for r in requests_of(stack)), timeout=30)
            jobs = jobs_of(stack)
            assert len(jobs) == REQUESTS and all(job.owner_user_id == OWNER for job in jobs)
            requests = requests_of(stack)
            assert sorted(int(r.job_ids.strip("[]")) for r in requests if r.job_ids) == sorted(
                job.id for job in jobs if job.id is not None
            )
            entries = store_of(stack).audit.entries(stack.workspace.team_id)
            approvals = [e for e in entries if e.action is AuditAction.APPROVE]
            starts = [e for e in entries if e.action is AuditAction.START]
            assert len(approvals) == REQUESTS and len(starts) == REQUESTS
            assert sorted(e.subject for e in approvals) == sorted(f"request {r.id}" for r in requests)
            # The two clicks that lost each request were told so.
            await wait_for(stack, lambda: len(refused(stack)) == 2 * REQUESTS)
        finally:
            other.stop()
