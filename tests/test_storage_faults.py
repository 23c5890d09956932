"""SQLite that cannot write: a full disk (a fault injected where the database driver runs
each statement, because CI runs as root and root ignores file permissions) and a database
opened read-only (SQLite's own `mode=ro`, which binds root too). The user is told nothing
was stored, the operator gets one log line, nothing is half-written, and everything works
again once writes succeed."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.datasets.samples import tutorial_csv
from bot.storage.models import Dataset, DatasetContent, ModelOwnership, TuningJob
from bot.storage.store import Store
from standins.emulator.running import FrozenClock
from standins.offline import OfflineConfig, OfflineStack
from tests.helpers.slack import (
    OWNER,
    command,
    ephemerals_for,
    eventually,
    next_ephemeral,
    store_of,
    upload_file,
)

WRITES = ("INSERT", "UPDATE", "DELETE")


class FullDisk:
    """Every write statement fails as SQLite fails when the filesystem is full."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.full = False
        event.listen(store.engine, "do_execute", self._execute)

    def _execute(self, cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        if self.full and statement.lstrip().upper().startswith(WRITES):
            raise sqlite3.OperationalError("database or disk is full")


def rows(store: Store) -> dict[str, int]:
    with store.session() as session:
        return {
            table.__name__: len(session.exec(select(table)).all())
            for table in (Dataset, DatasetContent, TuningJob, ModelOwnership)
        }


def db_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_full_disk_stores_nothing_tells_the_user_and_recovers(
    stack: OfflineStack, caplog: pytest.LogCaptureFixture
) -> None:
    store = store_of(stack)
    disk = FullDisk(store)
    await upload_file(stack, OWNER, "first.csv", tutorial_csv())  # written while there is room
    before = rows(store)
    disk.full = True
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        answer = await upload_file(stack, OWNER, "second.csv", tutorial_csv() + b"one more,example\n")
        assert "tunebot could not save `second.csv`" in answer.text and "the disk is full" in answer.text
        assert "Nothing was stored" in answer.text
        assert db_errors(caplog) == ["could not store an upload: the disk is full (nothing was written)"]
        caplog.clear()
        assert stack.sender is not None
        seen = len(ephemerals_for(stack, OWNER))
        await stack.sender.slash_command(OWNER, "start first")  # acked at once, answered after
        text = (await next_ephemeral(stack, OWNER, seen)).text
        assert "could not save the job" in text and "no tuning was started" in text, text
        assert db_errors(caplog) == ["could not record a new job: the disk is full (nothing was started)"]
    assert rows(store) == before  # nothing half-written
    assert stack.emulator is not None
    assert stack.emulator.emulator.stats()["by_method"].get("tunedModels.create", 0) == 0

    disk.full = False
    again = await upload_file(stack, OWNER, "second.csv", tutorial_csv() + b"one more,example\n")
    assert "Stored dataset" in again.text
    await command(stack, OWNER, "start first")
    await eventually(
        lambda: rows(store)[TuningJob.__name__] == 1 and rows(store)[ModelOwnership.__name__] == 1
    )


@pytest.fixture
def read_only_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    path = tmp_path / "tunebot.db"
    with OfflineStack(OfflineConfig(database_url=f"sqlite:///{path}", emulator_clock=FrozenClock())) as first:
        first.workspace.add_user(OWNER, "olivia")
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    with OfflineStack(OfflineConfig(database_url=url, emulator_clock=FrozenClock())) as running:
        running.workspace.add_user(OWNER, "olivia")
        yield running


async def test_a_read_only_database_answers_every_request(
    read_only_stack: OfflineStack, caplog: pytest.LogCaptureFixture
) -> None:
    stack = read_only_stack
    with caplog.at_level(logging.WARNING):
        answer = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        assert "could not save `tutorial.csv`: the database is read-only" in answer.text
        assert db_errors(caplog) == [
            "could not store an upload: the database is read-only (nothing was written)"
        ]
    help_answer = await command(stack, OWNER, "help")
    assert help_answer
