"""20 uploads at once of different files that share one file name, on SQLite and on
PostgreSQL: every uploader gets an answer, every file is stored under the next free name,
and the ones renamed are told so."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from standins.emulator.running import FrozenClock
from standins.offline import OfflineConfig, OfflineStack
from tests.helpers.databases import postgres_schema_url, sqlite_url
from tests.helpers.slack import store_of, upload_file

UPLOADERS = 20


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OfflineStack]:
    def run(url: str) -> Iterator[OfflineStack]:
        with OfflineStack(OfflineConfig(database_url=url, emulator_clock=FrozenClock())) as stack:
            yield stack

    if request.param == "sqlite":
        yield from run(sqlite_url(tmp_path))
    else:
        with postgres_schema_url() as url:
            yield from run(url)


def csv_for(n: int) -> bytes:
    rows = "".join(f"question {n}-{i},answer {n}-{i}\n" for i in range(12))
    return ("text_input,output\n" + rows).encode()


async def test_concurrent_uploads_with_one_name_are_all_stored_under_free_names(
    any_db_stack: OfflineStack,
) -> None:
    stack = any_db_stack
    users = [f"U0UP{n:04d}" for n in range(UPLOADERS)]
    answers = await asyncio.gather(
        *(upload_file(stack, user, "same.csv", csv_for(n)) for n, user in enumerate(users))
    )
    assert all("Stored dataset" in a.text for a in answers), [a.text for a in answers]
    names = store_of(stack).datasets.names("T0TEAM")
    assert len(names) == UPLOADERS and len(set(names)) == UPLOADERS and "same" in names
    renamed = [a for a in answers if "*same*:" not in a.text]
    assert len(renamed) == UPLOADERS - 1
    assert all("Stored dataset *same-" in a.text and "(`same` is taken)" in a.text for a in renamed)
