"""Real databases for tests: a SQLite file, or a throw-away schema on the local PostgreSQL;
and a tunebot.db as the code before migrations left it."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.domain.types import TrainingPair
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
def postgres_schema_url() -> Iterator[str]:
    """A database URL whose connections use a fresh schema, dropped afterwards."""
    import psycopg

    require_postgres()
    schema = f"tunebot_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'tunebot.db'}"


# ---------------------------------------------------------------- a database from before migrations

DATA = Path(__file__).resolve().parent.parent / "data"
PAIRS = [TrainingPair(str(n), str(n + 1)) for n in range(12)]
NOW = "2026-11-30 10:00:00.000000"


def database_made_before_alembic(path: Path) -> None:
    """A tunebot.db as the code before migrations left it: its tables, rows, no alembic_version."""
    with sqlite3.connect(path) as db:
        db.executescript((DATA / "schema_before_alembic.sql").read_text())
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
