"""Helpers for the polling tests: a tutorial job started through Slack, the scheduler's wait
skipped, the notices in a job's thread."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.datasets.samples import tutorial_csv
from bot.slack.reporter import NOTICE_EVENT_TYPE
from bot.storage.models import TuningJob, utcnow
from standins.fakeslack import Message
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, OWNER, eventually, store_of, upload_file

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def make_due(stack: OfflineStack) -> None:
    """Pretend the scheduler's wait is over for every job (the tests drive the clock)."""
    s = store_of(stack)
    with s.session() as session:
        for job in session.exec(select(TuningJob)).all():
            job.next_poll_at = LONG_AGO
            session.add(job)
        session.commit()


async def start_tutorial_job(stack: OfflineStack) -> TuningJob:
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await stack.sender.slash_command(OWNER, "start tutorial")
    return await eventually(
        lambda: next(
            (j for j in store_of(stack).jobs.active() if j.message_ts and j.lease_owner is None), None
        )
    )


def notices(stack: OfflineStack, job: TuningJob) -> list[Message]:
    assert job.message_ts is not None
    return [
        m
        for m in stack.workspace.thread(CHANNEL, job.message_ts)
        if (m.metadata or {}).get("event_type") == NOTICE_EVENT_TYPE
    ]


def poller_clock_ahead(stack: OfflineStack, seconds: float) -> None:
    """The bot's poller reads a clock `seconds` ahead of the real one, as if that much time had
    passed (e.g. for the leases of a process that died to expire) without waiting for it."""
    assert stack.runtime is not None
    stack.runtime.poller.clock = lambda: utcnow() + timedelta(seconds=seconds)
