"""A database made by each release before Alembic (no `alembic_version`) is brought to the
newest revision in place on start, rows intact, and the bot works on it afterwards; on a
SQLite file and on PostgreSQL (whose session time zone here is not UTC, as a server's may be).

The old databases are built from the statements each release's `create_all` sent
(tests/data/schemas, tests/helpers/databases.py `database_made_by`)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.datasets.core import shape_of
from bot.domain.audit import AuditAction
from bot.domain.types import JobState, TrainingExample
from bot.services.sweeps import resume_due
from bot.storage import schema
from bot.storage.engine import make_engine
from bot.storage.models import TuningJob
from bot.storage.store import Store
from tests.helpers.databases import (
    DELETED_MODEL,
    OLD_SCHEMAS,
    OLD_TIME,
    PAIRS,
    QUEUED_MODEL,
    READY_MODEL,
    RUNNING_MODEL,
    SEEN_EVENT,
    TRY_THREAD_TS,
    database_made_by,
    postgres_schema_url,
    sqlite_url,
)
from tests.helpers.slack import CHANNEL, OWNER, ack_body, all_text, running_stack


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema_url(time_zone="Asia/Tokyo") as url:
            yield url


@pytest.fixture(params=OLD_SCHEMAS)
def old_store(request: pytest.FixtureRequest, empty_url: str) -> Iterator[Store]:
    """The bot started on a database made by the release `request.param`."""
    database_made_by(request.param, empty_url)
    store = Store.from_url(empty_url)
    try:
        yield store
    finally:
        store.engine.dispose()


def test_an_old_database_is_brought_to_the_models_schema_with_its_rows(old_store: Store) -> None:
    with old_store.engine.connect() as connection:
        assert schema.current_revision(connection) == schema.head_revision()
        assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []

    (summary,) = old_store.datasets.list_for_owner("T1", "U1")
    assert (summary.dataset.name, summary.dataset.example_count, summary.dataset.created_at) == (
        "numbers",
        12,
        OLD_TIME,
    )
    assert old_store.datasets.examples(1) == PAIRS
    running, ready, queued = (old_store.jobs.get(job_id) for job_id in (1, 2, 3))
    assert running is not None and ready is not None and queued is not None
    assert (running.display_name, running.state, running.percent, running.completed_steps) == (
        "numbers",
        "running",
        40.0,
        15,
    )
    assert (running.created_at, running.next_poll_at, ready.finished_at) == (OLD_TIME, OLD_TIME, OLD_TIME)
    # A job message the old code posted is known as posted (never posted again); a job
    # whose message was not posted yet gets it from the poller.
    assert (running.message_ts, running.message_state) == ("1700000000.000100", "posted")
    assert (ready.message_ts, ready.message_state, ready.notice_state) == (
        "1700000000.000300",
        "posted",
        "done",
    )
    assert (queued.message_ts, queued.message_state) == (None, "none")
    assert (running.eval_state, running.detail_state, running.checkpoints) == ("none", None, None)
    owner = old_store.ownership.get(RUNNING_MODEL)
    assert owner is not None and (owner.owner_user_id, owner.job_id, owner.created_at) == ("U1", 1, OLD_TIME)
    assert old_store.ownership.deleted([RUNNING_MODEL, DELETED_MODEL]) == {DELETED_MODEL}
    assert old_store.threads.model_for("C1", TRY_THREAD_TS) == RUNNING_MODEL
    assert old_store.events.first_delivery(SEEN_EVENT) is False  # still known: a retry is dropped

    # A second start finds it current and changes nothing.
    again = Store.from_url(old_store.engine.url.render_as_string(hide_password=False))
    try:
        job = again.jobs.get(1)
        assert job is not None and job.message_state == "posted"
    finally:
        again.engine.dispose()


async def test_tune_status_lists_the_jobs_of_a_database_made_by_the_first_release(tmp_path: Path) -> None:
    database_made_by("3e217ee", sqlite_url(tmp_path), team="T0TEAM", owner=OWNER, channel=CHANNEL)
    with running_stack(tmp_path) as stack:
        assert stack.sender is not None and stack.workspace.team_id == "T0TEAM"
        status = all_text(ack_body(await stack.sender.slash_command(OWNER, "status")))
        assert "#1 numbers" in status and "#2 older" in status and "#3 late" in status
        one = all_text(ack_body(await stack.sender.slash_command(OWNER, "status 2")))
        assert "#2 older" in one


def test_the_bot_works_on_an_upgraded_old_database(old_store: Store) -> None:
    # /tune status, the App Home and /tune list read the owner's and the team's jobs.
    assert [job.id for job in old_store.jobs.for_owner("T1", "U1")] == [3, 2, 1]
    assert {job.model_name for job in old_store.jobs.team_models("T1")} >= {RUNNING_MODEL, READY_MODEL}
    assert sorted(job.id or 0 for job in old_store.jobs.active()) == [1, 3]
    # /tune delete and try threads find the model and its job.
    found = old_store.jobs.for_model(QUEUED_MODEL)
    assert found is not None and found.id == 3
    # An old dataset is shown by its name, and reached by it in any case (#20 item 9).
    dataset = old_store.datasets.by_display_name("T1", "NUMBERS")
    assert dataset is not None and dataset.id == 1 and dataset.display_name == dataset.name == "numbers"

    # The poller claims the old active jobs and a new one, and what it writes reads back
    # as the same instant.
    new = old_store.jobs.create(
        TuningJob(
            team_id="T1",
            owner_user_id="U2",
            channel_id="C2",
            dataset_id=1,
            display_name="new",
            base_model="models/gemini-1.5-flash-001-tuning",
            epoch_count=1,
            batch_size=2,
            learning_rate=0.001,
            next_poll_at=OLD_TIME,
        )
    )
    now = datetime(2026, 12, 3, 15, 0, 0, tzinfo=UTC)
    claimed = old_store.jobs.claim_due(owner="poller-1", now=now, lease_seconds=60)
    assert sorted(job.id or 0 for job in claimed) == [1, 3, new.id]
    job = old_store.jobs.get(1)
    assert job is not None and (job.lease_owner, job.lease_expires_at) == (
        "poller-1",
        now + timedelta(seconds=60),
    )
    later = now + timedelta(minutes=5)
    assert old_store.jobs.update_leased(1, "poller-1", state=JobState.SUCCEEDED.value, finished_at=now)
    assert old_store.jobs.release("poller-1", [(1, {"next_poll_at": later}), (3, {}), (new.id or 0, {})]) == 3
    job = old_store.jobs.get(1)
    assert job is not None and (job.state, job.finished_at, job.next_poll_at) == ("succeeded", now, later)
    again = old_store.jobs.claim_due(owner="poller-2", now=now, lease_seconds=60)
    assert sorted(j.id or 0 for j in again) == [3, new.id]


def test_an_old_database_the_previous_release_marked_current_is_completed(empty_url: str) -> None:
    """The release before this fix stamped an old database `0001_baseline` as it was and
    upgraded it to the newest revision: it read as current, and every job query failed."""
    database_made_by("3e217ee", empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:  # what that release did
            config = Config()
            config.set_main_option("script_location", str(schema.MIGRATIONS))
            config.attributes["connection"] = connection
            command.stamp(config, schema.BASELINE)
            command.upgrade(config, "head")
    finally:
        engine.dispose()

    store = Store.from_url(empty_url)
    try:
        with store.engine.connect() as connection:
            assert schema.current_revision(connection) == schema.head_revision()
            assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        assert [(job.id, job.message_state) for job in store.jobs.for_owner("T1", "U1")] == [
            (3, "none"),
            (2, "posted"),
            (1, "posted"),
        ]
        now = datetime(2026, 12, 3, 15, 0, 0, tzinfo=UTC)
        claimed = store.jobs.claim_due(owner="poller-1", now=now, lease_seconds=60)
        assert sorted(job.id or 0 for job in claimed) == [1, 3]
        job = store.jobs.get(3)
        assert job is not None and (job.lease_expires_at, job.created_at) == (
            now + timedelta(seconds=60),
            OLD_TIME,
        )
    finally:
        store.engine.dispose()


LAST_RELEASE = "0009_thread_turns"  # the newest revision a landed release created (stop 25)


def test_a_database_of_the_last_release_upgrades_with_its_datasets(empty_url: str) -> None:
    """0010_conversations and 0011_spend_audit add columns and a table: a database the last
    release made keeps its datasets, which read as input/output pairs, and takes the new rows."""
    engine = make_engine(empty_url)
    blob = gzip.compress(json.dumps([["1", "2"], ["3", "4"]]).encode())
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(schema.MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, LAST_RELEASE)
            connection.execute(
                text(
                    "INSERT INTO dataset (id, team_id, owner_user_id, channel_id, name, display_name, "
                    "file_name, format, example_count, sha256, created_at) VALUES (1, 'T1', 'U1', 'C1', "
                    "'numbers', 'Numbers', 'numbers.csv', 'csv', 2, :sha, :at)"
                ),
                {"sha": "a" * 64, "at": OLD_TIME},
            )
            connection.execute(
                text("INSERT INTO dataset_content (dataset_id, examples_gz) VALUES (1, :blob)"),
                {"blob": blob},
            )
    finally:
        engine.dispose()

    store = Store.from_url(empty_url)
    try:
        with store.engine.connect() as connection:
            assert schema.current_revision(connection) == schema.head_revision()
            assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        dataset = store.datasets.by_name("T1", "numbers")
        assert dataset is not None
        assert (dataset.multi_turn_count, dataset.system_count, dataset.skipped_count) == (0, 0, 0)
        assert (dataset.system_instruction, dataset.source_uri, dataset.conversational) == (None, None, False)
        assert store.datasets.examples(1) == [TrainingExample("1", "2"), TrainingExample("3", "4")]
        chat = [TrainingExample("and next?", "3", history=("count from 1", "2"), system="Count.")] * 10
        added = store.datasets.add(
            team_id="T1",
            owner_user_id="U1",
            channel_id="C1",
            name="chats",
            file_name="chats.jsonl",
            format="jsonl",
            sha256="b" * 64,
            examples=chat,
            shape=shape_of(chat),
        )
        assert added.id is not None and store.datasets.examples(added.id) == chat
        store.audit.append(team_id="T1", actor_user_id="U1", action=AuditAction.START, subject="job 1")
        assert [(e.actor_user_id, e.action) for e in store.audit.entries("T1")] == [("U1", AuditAction.START)]
    finally:
        store.engine.dispose()


def test_sweeps_of_a_database_before_sweep_plans_upgrade_as_started(empty_url: str) -> None:
    """0017_sweep_plan: a sweep recorded before sweeps had plans has nothing to resume."""
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(schema.MIGRATIONS))
            config.attributes["connection"] = connection
            command.upgrade(config, "0016_sweep_lease")
            connection.execute(
                text(
                    "INSERT INTO sweep (id, team_id, owner_user_id, channel_id, dataset_name, grid, "
                    "rank_by, message_state, notice_state, created_at) VALUES (1, 'T1', 'U1', 'C1', "
                    "'numbers', :grid, 'win_rate', '', '', :at)"
                ),
                {"grid": json.dumps({"epochs": ["2", "4"]}), "at": OLD_TIME},
            )
    finally:
        engine.dispose()

    store = Store.from_url(empty_url)
    try:
        with store.engine.connect() as connection:
            assert schema.current_revision(connection) == schema.head_revision()
        sweep = store.sweeps.get(1)
        assert sweep is not None and (sweep.start_state, sweep.plan, sweep.start_expires_at) == (
            "started",
            None,
            None,
        )
        assert not resume_due(sweep, datetime(2027, 1, 1, tzinfo=UTC))
    finally:
        store.engine.dispose()
