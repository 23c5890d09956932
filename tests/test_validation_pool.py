"""Uploads are validated in worker processes (`bot/datasets/pool.py`): the uploader gets the
same answer as from an in-process parse, and a worker that dies costs one answer, not the
pool."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.datasets import parse_dataset
from bot.datasets.pool import ValidationPool

GOOD = "text_input,output\n" + "".join(f"question {n},answer {n}\n" for n in range(50))
DEEP = "[" * 100_000


@pytest.fixture
def pool() -> ValidationPool:
    validation = ValidationPool(workers=1)
    yield validation
    validation.shutdown()


@pytest.mark.parametrize(
    ("name", "data"), [("good.csv", GOOD), ("deep.json", DEEP), ("short.csv", "a,b\n1,2\n")]
)
async def test_a_worker_gives_the_answer_an_in_process_parse_gives(
    pool: ValidationPool, name: str, data: str
) -> None:
    spool = io.BytesIO(data.encode())
    got = await pool.parse(spool, name)
    want = parse_dataset(data.encode(), name)
    assert got == want
    assert got.ok == (name == "good.csv")


async def test_a_killed_worker_costs_one_answer_and_the_next_upload_is_validated(
    pool: ValidationPool,
) -> None:
    assert (await pool.parse(GOOD.encode(), "first.csv")).ok
    executor = pool._executor
    assert executor is not None
    for pid in list(executor._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    lost = await pool.parse(GOOD.encode(), "second.csv")
    assert not lost.ok
    assert "send it again" in str(lost.problems[0])
    again = await pool.parse(GOOD.encode(), "third.csv")
    assert again.ok and len(again.examples) == 50


KILLED_PARENT = """
import asyncio, os, signal
from bot.datasets.pool import ValidationPool

async def main():
    pool = ValidationPool(workers=1)
    await pool.parse(b"text_input,output\\n" + b"q,a\\n" * 20, "f.csv")
    print(*pool._executor._processes, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line for line in status)
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_of_a_killed_bot_do_not_linger(tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED_PARENT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    workers = [int(pid) for pid in done.stdout.split()]
    assert workers
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in workers)
