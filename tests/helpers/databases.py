"""Real databases for tests: a SQLite file, or a throw-away schema on the local PostgreSQL;
and a tunebot.db as the code before migrations left it."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.domain.types import TrainingExample
from bot.storage.repositories.datasets import encode_examples

PG_URL = os.environ.get("TUNEBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL at {PG_URL} does not answer ({type(exc).__name__})"


def require_postgres() -> None:
    """Skip outside CI when there is no PostgreSQL; in CI (CI=true) that is a failure."""
    reason = postgres_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; .ci/run should have started it")
    pytest.skip(f"{reason} (these tests always run in CI)")


@contextmanager
def postgres_schema_url(*, time_zone: str | None = None) -> Iterator[str]:
    """A database URL whose connections use a fresh schema, dropped afterwards (and the
    session `TimeZone` given, as a server configured for another zone would have it)."""
    import psycopg

    require_postgres()
    schema = f"tunebot_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = f"-csearch_path%3D{schema}"
    if time_zone is not None:
        options += f"%20-cTimeZone%3D{quote(time_zone, safe='')}"
    try:
        yield f"{PG_URL}?options={options}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'tunebot.db'}"


# ---------------------------------------------------------------- databases from before migrations

DATA = Path(__file__).resolve().parent.parent / "data"
SCHEMAS = DATA / "schemas"
PAIRS = [TrainingExample(str(n), str(n + 1)) for n in range(12)]
NOW = "2026-11-30 10:00:00.000000"

# The schemas tunebot's `create_all` made before it adopted Alembic, each named by the commit
# that introduced it (tests/data/schemas/make_schemas.py): timestamps without a time zone;
# with one; with `tuning_job.message_state` (the `0001_baseline` schema).
OLD_SCHEMAS = ("3e217ee", "bb23dac", "3bb8853")
OLD_TIME = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # every timestamp the old rows hold
RUNNING_MODEL = "tunedModels/numbers-abc"  # job 1: running, its message posted
READY_MODEL = "tunedModels/older-def"  # job 2: succeeded, its notice posted
QUEUED_MODEL = "tunedModels/late-ghi"  # job 3: queued, its message not posted yet
DELETED_MODEL = "tunedModels/gone-xyz"  # deleted through tunebot
TRY_THREAD_TS = "1700000001.000200"  # a /tune try thread on RUNNING_MODEL
SEEN_EVENT = "Ev0001"


def old_schema_statements(schema: str, dialect: str) -> list[str]:
    """The statements `create_all` sent to make the tables of `schema` on `dialect`."""
    text = (SCHEMAS / f"{schema}.{dialect}.sql").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]


def database_made_by(
    schema: str, url: str, *, team: str = "T1", owner: str = "U1", channel: str = "C1"
) -> None:
    """The database at `url` (empty) as tunebot at commit `schema` left it: its tables, no
    alembic_version, and rows written the way that code wrote them (naive UTC timestamps
    before bb23dac, aware ones after; `message_state` from 3bb8853 on): `owner`'s dataset
    `numbers` and jobs 1-3 of it in `channel` of `team`, their models' owners, a try thread."""
    from sqlalchemy import MetaData

    from bot.storage.engine import make_engine

    engine = make_engine(url)
    when = OLD_TIME.replace(tzinfo=None) if schema == "3e217ee" else OLD_TIME
    try:
        with engine.begin() as connection:
            for statement in old_schema_statements(schema, connection.dialect.name):
                connection.exec_driver_sql(statement)
            tables = MetaData()
            tables.reflect(connection)
            has_message_state = "message_state" in tables.tables["tuning_job"].c
            t = tables.tables
            connection.execute(
                t["dataset"].insert(),
                {
                    "team_id": team,
                    "owner_user_id": owner,
                    "channel_id": channel,
                    "name": "numbers",
                    "file_name": "numbers.csv",
                    "format": "csv",
                    "example_count": len(PAIRS),
                    "sha256": "a" * 64,
                    "created_at": when,
                },
            )
            connection.execute(
                t["dataset_content"].insert(), {"dataset_id": 1, "examples_gz": encode_examples(PAIRS)}
            )
            common = {
                "team_id": team,
                "owner_user_id": owner,
                "channel_id": channel,
                "dataset_id": 1,
                "backend": "gemini",
                "base_model": "models/gemini-1.5-flash-001-tuning",
                "epoch_count": 5,
                "batch_size": 2,
                "learning_rate": 0.001,
                "created_at": when,
                "updated_at": when,
                "next_poll_at": when,
                "poll_interval_seconds": 5.0,
                "total_steps": 38,
            }
            jobs = [
                {
                    "message_ts": "1700000000.000100",
                    "display_name": "numbers",
                    "model_name": RUNNING_MODEL,
                    "operation_name": f"{RUNNING_MODEL}/operations/x",
                    "state": "running",
                    "percent": 40.0,
                    "completed_steps": 15,
                    "finished_at": None,
                    "notice_state": "none",
                    "notice_ts": None,
                },
                {
                    "message_ts": "1700000000.000300",
                    "display_name": "older",
                    "model_name": READY_MODEL,
                    "operation_name": f"{READY_MODEL}/operations/y",
                    "state": "succeeded",
                    "percent": 100.0,
                    "completed_steps": 38,
                    "finished_at": when,
                    "notice_state": "done",
                    "notice_ts": "1700000000.000400",
                },
                {
                    "message_ts": None,
                    "display_name": "late",
                    "model_name": QUEUED_MODEL,
                    "operation_name": f"{QUEUED_MODEL}/operations/z",
                    "state": "queued",
                    "percent": 0.0,
                    "completed_steps": 0,
                    "finished_at": None,
                    "notice_state": "none",
                    "notice_ts": None,
                },
            ]
            for job in jobs:
                if has_message_state:
                    job["message_state"] = "none" if job["message_ts"] is None else "posted"
                connection.execute(t["tuning_job"].insert(), {**common, **job})
            ownership = t["model_ownership"].insert()
            for job_id, model in enumerate((RUNNING_MODEL, READY_MODEL, QUEUED_MODEL), start=1):
                row = {"model_name": model, "team_id": team, "owner_user_id": owner, "job_id": job_id}
                connection.execute(
                    ownership, {**row, "created_at": when, "deleted_at": None, "deleted_by": None}
                )
            connection.execute(
                ownership,
                {
                    "model_name": DELETED_MODEL,
                    "team_id": team,
                    "owner_user_id": owner,
                    "job_id": None,
                    "created_at": when,
                    "deleted_at": when,
                    "deleted_by": owner,
                },
            )
            connection.execute(
                t["try_thread"].insert(),
                {
                    "channel_id": channel,
                    "thread_ts": TRY_THREAD_TS,
                    "model_name": RUNNING_MODEL,
                    "user_id": owner,
                    "created_at": when,
                },
            )
            connection.execute(t["seen_event"].insert(), {"event_id": SEEN_EVENT, "seen_at": when})
    finally:
        engine.dispose()


def database_made_before_alembic(path: Path) -> None:
    """A tunebot.db as the code just before migrations (3bb8853 on) left it: its tables,
    rows, no alembic_version."""
    with sqlite3.connect(path) as db:
        for statement in old_schema_statements("3bb8853", "sqlite"):
            db.execute(statement)
        db.execute(
            "INSERT INTO dataset VALUES (1, 'T1', 'U1', 'C1', 'numbers', 'numbers.csv', 'csv', 12, ?, ?)",
            ("a" * 64, NOW),
        )
        db.execute("INSERT INTO dataset_content VALUES (1, ?)", (encode_examples(PAIRS),))
        db.execute(
            "INSERT INTO tuning_job (id, team_id, owner_user_id, channel_id, message_ts, message_state,"
            " dataset_id, backend, display_name, base_model, model_name, operation_name, epoch_count,"
            " batch_size, learning_rate, state, percent, completed_steps, total_steps, created_at,"
            " updated_at, next_poll_at, poll_interval_seconds, notice_state)"
            " VALUES (7, 'T1', 'U1', 'C1', '1700000000.000100', 'posted', 1, 'gemini', 'numbers',"
            " 'models/gemini-1.5-flash-001-tuning', 'tunedModels/numbers-abc',"
            " 'tunedModels/numbers-abc/operations/x', 5, 2, 0.001, 'running', 40.0, 15, 38, ?, ?, ?,"
            " 5.0, 'none')",
            (NOW, NOW, NOW),
        )
        db.execute(
            "INSERT INTO model_ownership VALUES ('tunedModels/numbers-abc', 'T1', 'U1', 7, ?, NULL, NULL)",
            (NOW,),
        )
        db.execute(
            "INSERT INTO try_thread VALUES ('C1', '1700000001.000200', 'tunedModels/numbers-abc', 'U1', ?)",
            (NOW,),
        )
