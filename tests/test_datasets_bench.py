"""Streaming benchmark for bot.datasets (skipped unless TUNEBOT_BENCH=1).

100,000 examples, about 50 MB, in JSONL, JSON and CSV: each parse runs in a fresh
interpreter so that peak RSS is the parser's own. Targets: < 3 s and well under 200 MB.
Run: TUNEBOT_BENCH=1 .venv/bin/python -m pytest -s tests/test_datasets_bench.py
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.environ.get("TUNEBOT_BENCH") != "1", reason="set TUNEBOT_BENCH=1 to run")

N = 100_000

_CHILD = """
import resource, sys, time
from bot.datasets import parse_dataset
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    parsed = parse_dataset(f, sys.argv[1])
elapsed = time.perf_counter() - start
peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(parsed.examples), parsed.problem_count, f"{elapsed:.3f}", peak_kb)
"""


def _pair(i: int) -> tuple[str, str]:
    return f"question {i}: " + "x" * 400, f"answer {i} " + "y" * 80


def _write(path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        if path.suffix == ".jsonl":
            for i in range(N):
                a, b = _pair(i)
                f.write(json.dumps({"text_input": a, "output": b}) + "\n")
        elif path.suffix == ".json":
            f.write("[\n")
            for i in range(N):
                a, b = _pair(i)
                f.write(("," if i else "") + json.dumps({"text_input": a, "output": b}) + "\n")
            f.write("]\n")
        else:
            writer = csv.writer(f)
            writer.writerow(["text_input", "output"])
            writer.writerows(_pair(i) for i in range(N))


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv"])
def test_streaming_100k(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"big{suffix}"
    _write(path)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=True
    )
    count, problems, elapsed, rss_kb = out.stdout.split()
    size_mb = path.stat().st_size / 1e6
    print(f"\n{suffix}: {size_mb:.0f} MB, {elapsed} s, peak RSS {int(rss_kb) / 1024:.0f} MB")
    assert (int(count), int(problems)) == (N, 0)
    assert float(elapsed) < 3.0
    assert int(rss_kb) < 200 * 1024
