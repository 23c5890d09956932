"""Every file of the malformed-input corpus, through the upload path the Slack listeners
use (`ingest_upload` on a real SQLite store): the uploader sees the specific reason, and
nothing is stored."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.datasets import Limits
from bot.presentation.uploads import upload_text
from bot.services.uploads import ingest_upload
from bot.storage.store import Store

BAD = Path(__file__).parent / "data" / "bad"
GOOD = Path(__file__).parent / "data" / "good"
EXPECTED_BAD: dict[str, str] = json.loads((BAD / "EXPECTED.json").read_text(encoding="utf-8"))
EXPECTED_GOOD: dict[str, dict[str, object]] = json.loads((GOOD / "EXPECTED.json").read_text(encoding="utf-8"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.from_url(f"sqlite:///{tmp_path / 'tunebot.db'}")


async def upload(store: Store, path: Path, limits: Limits | None = None) -> tuple[str, str]:
    with path.open("rb") as content:
        outcome = await ingest_upload(
            store,
            team_id="T1",
            user_id="U1",
            channel_id="C1",
            file_name=path.name,
            content=content,
            limits=limits,
        )
    return outcome.kind, upload_text(outcome)


def test_the_corpus_has_at_least_30_bad_files() -> None:
    assert len(EXPECTED_BAD) >= 30
    assert all((BAD / name).exists() for name in EXPECTED_BAD)


@pytest.mark.parametrize("name", sorted(EXPECTED_BAD))
async def test_each_bad_file_is_refused_with_its_reason(store: Store, name: str) -> None:
    kind, message = await upload(store, BAD / name)
    assert kind == "rejected"
    assert f"`{name}` was not stored" in message
    shown = EXPECTED_BAD[name].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert shown.lower() in message.lower()
    assert store.datasets.count() == 0


@pytest.mark.parametrize("name", sorted(EXPECTED_GOOD))
async def test_each_good_file_is_stored(store: Store, name: str) -> None:
    kind, message = await upload(store, GOOD / name)
    assert kind == "stored", message
    assert f"{EXPECTED_GOOD[name]['examples']:,} examples" in message
    assert store.datasets.count() == 1


async def test_ten_megabytes_on_one_line_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "one-line.jsonl"
    path.write_bytes(b'{"text_input": "' + b"x" * (10 * 1024 * 1024) + b'", "output": "y"}\n')
    kind, message = await upload(store, path)
    assert kind == "rejected" and "line 1" in message
    assert store.datasets.count() == 0


async def test_a_file_over_the_size_cap_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"text_input,output\n")
        handle.truncate(2 * 1024 * 1024 + 1)
    kind, message = await upload(store, path, Limits(max_file_bytes=2 * 1024 * 1024))
    assert kind == "rejected" and "limit" in message.lower()
    assert store.datasets.count() == 0
    assert os.path.getsize(path) > 2 * 1024 * 1024
