"""Validating a 100,000-example dataset (about 50 MB): time and peak RSS.

The file is generated in a temporary folder. Every parse runs in a fresh interpreter
so that the peak RSS (the child's VmHWM) is that parse's own; the time covers
the parse only (not the interpreter start or the imports).

JSONL is the measurement with targets; JSON and CSV are reported too. Floors: a bare
`json.loads` per line for JSONL, `json.load` of the whole file for JSON (what a
non-streaming parser costs) and a bare `csv.reader` loop for CSV.

Conversations: 100,000 lines of Vertex AI's tuning JSONL (a system instruction and three
user/model exchanges each), validated with Vertex AI's limits, within 4× the time of a
`json.loads` loop over the same lines in the same run (the best of three runs of each,
alternating) and under 250 MB.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import Row, Section

EXAMPLES = 100_000
TARGET_SECONDS = 3.0
TARGET_RSS_KIB = 200 * 1024
CONVERSATIONS = 100_000
EXCHANGES = 3
TARGET_RATIO = 4.0
TARGET_CONVERSATION_RSS_KIB = 250 * 1024
ROUNDS = 3
SYSTEM = "You are the support desk of a bicycle shop. Answer in two or three friendly sentences."

# Peak RSS from VmHWM, not ru_maxrss: after fork + exec, ru_maxrss still counts the
# parent's RSS at the fork (the bench process is big by then), VmHWM is the new image's.
_PEAK = """
def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
"""

_TUNEBOT = (
    _PEAK
    + """
import sys, time
from bot.datasets import parse_dataset
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    parsed = parse_dataset(f, sys.argv[1])
elapsed = time.perf_counter() - start
print(len(parsed.examples), parsed.problem_count, elapsed, peak_kib())
"""
)

_FLOOR_JSONL = (
    _PEAK
    + """
import json, sys, time
start = time.perf_counter()
count = 0
with open(sys.argv[1], "rb") as f:
    for line in f:
        if line.strip():
            json.loads(line)
            count += 1
elapsed = time.perf_counter() - start
print(count, 0, elapsed, peak_kib())
"""
)

_FLOOR_JSON = (
    _PEAK
    + """
import json, sys, time
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    count = len(json.load(f))
elapsed = time.perf_counter() - start
print(count, 0, elapsed, peak_kib())
"""
)

_FLOOR_CSV = (
    _PEAK
    + """
import csv, sys, time
start = time.perf_counter()
with open(sys.argv[1], newline="", encoding="utf-8") as f:
    rows = csv.reader(f)
    next(rows)
    count = sum(1 for _ in rows)
elapsed = time.perf_counter() - start
print(count, 0, elapsed, peak_kib())
"""
)

_TUNEBOT_VERTEX = (
    _PEAK
    + """
import sys, time
from bot.datasets import parse_dataset
from bot.datasets.limits import VERTEX_LIMITS
start = time.perf_counter()
with open(sys.argv[1], "rb") as f:
    parsed = parse_dataset(f, sys.argv[1], limits=VERTEX_LIMITS)
elapsed = time.perf_counter() - start
print(len(parsed.examples), parsed.problem_count, elapsed, peak_kib())
"""
)

FLOORS = {".jsonl": _FLOOR_JSONL, ".json": _FLOOR_JSON, ".csv": _FLOOR_CSV}
FLOOR_NAMES = {
    ".jsonl": "`json.loads` per line",
    ".json": "`json.load` of the file",
    ".csv": "`csv.reader` loop",
}


@dataclass(frozen=True)
class Parse:
    count: int
    problems: int
    seconds: float
    peak_kib: int


def _pair(i: int) -> tuple[str, str]:
    return f"question {i}: " + "x" * 400, f"answer {i} " + "y" * 80


def write_dataset(path: Path, examples: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        if path.suffix == ".jsonl":
            for i in range(examples):
                a, b = _pair(i)
                f.write(json.dumps({"text_input": a, "output": b}) + "\n")
        elif path.suffix == ".json":
            f.write("[\n")
            for i in range(examples):
                a, b = _pair(i)
                f.write(("," if i else "") + json.dumps({"text_input": a, "output": b}) + "\n")
            f.write("]\n")
        else:
            writer = csv.writer(f)
            writer.writerow(["text_input", "output"])
            writer.writerows(_pair(i) for i in range(examples))


def write_conversations(path: Path, count: int, exchanges: int = EXCHANGES) -> None:
    """Vertex AI's tuning JSONL: a system instruction and `exchanges` user/model turns a line."""
    system = {"role": "system", "parts": [{"text": SYSTEM}]}
    with path.open("w", encoding="utf-8", newline="") as f:
        for i in range(count):
            contents = []
            for turn in range(exchanges):
                question = f"Conversation {i}, question {turn}: " + "how do I adjust my brakes? " * 3
                answer = f"Answer {i}.{turn}: " + "turn the barrel adjuster a quarter turn at a time. " * 3
                contents.append({"role": "user", "parts": [{"text": question}]})
                contents.append({"role": "model", "parts": [{"text": answer}]})
            f.write(json.dumps({"systemInstruction": system, "contents": contents}) + "\n")


def _child(code: str, path: Path) -> Parse:
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    count, problems, seconds, peak = out.stdout.split()
    return Parse(int(count), int(problems), float(seconds), int(peak))


def run(quick: bool = False) -> Section:
    suffixes = (".jsonl",) if quick else (".jsonl", ".json", ".csv")
    rows: list[Row] = []
    details: dict[str, object] = {"examples": EXAMPLES}
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp:
        for suffix in suffixes:
            path = Path(tmp) / f"examples{suffix}"
            write_dataset(path, EXAMPLES)
            size_mb = path.stat().st_size / 1e6
            tunebot = _child(_TUNEBOT, path)
            floor = _child(FLOORS[suffix], path)
            path.unlink()
            complete = (tunebot.count, tunebot.problems) == (EXAMPLES, 0) and floor.count == EXAMPLES
            label = f"Validate {EXAMPLES:,}-example {suffix[1:].upper()} ({size_mb:.0f} MB)"
            targeted = suffix == ".jsonl"
            rows.append(
                Row(
                    f"{label}: time",
                    f"{tunebot.seconds:.2f} s",
                    f"{floor.seconds:.2f} s ({FLOOR_NAMES[suffix]})",
                    f"< {TARGET_SECONDS:.0f} s" if targeted else f"(< {TARGET_SECONDS:.0f} s)",
                    complete and tunebot.seconds < TARGET_SECONDS,
                    value=tunebot.seconds,
                    baseline_value=floor.seconds,
                )
            )
            rows.append(
                Row(
                    f"{label}: peak RSS",
                    f"{tunebot.peak_kib / 1024:.0f} MB",
                    f"{floor.peak_kib / 1024:.0f} MB",
                    f"< {TARGET_RSS_KIB // 1024} MB" if targeted else f"(< {TARGET_RSS_KIB // 1024} MB)",
                    complete and tunebot.peak_kib < TARGET_RSS_KIB,
                    value=tunebot.peak_kib / 1024,
                    baseline_value=floor.peak_kib / 1024,
                )
            )
            details[suffix[1:]] = {
                "size_mb": round(size_mb, 1),
                "tunebot": asdict(tunebot),
                "floor": asdict(floor),
            }
        rows.extend(_conversations(Path(tmp), details))
    return Section("dataset_validation", rows, details)


def _conversations(tmp: Path, details: dict[str, object]) -> list[Row]:
    path = tmp / "conversations.jsonl"
    write_conversations(path, CONVERSATIONS)
    size_mb = path.stat().st_size / 1e6
    # Best of three, alternating, for both: a ratio of two times is sensitive to what else the
    # machine runs at that moment (the peak RSS is the same every time).
    tunebot_runs, floor_runs = [], []
    for _ in range(ROUNDS):
        tunebot_runs.append(_child(_TUNEBOT_VERTEX, path))
        floor_runs.append(_child(_FLOOR_JSONL, path))
    tunebot = min(tunebot_runs, key=lambda run: run.seconds)
    floor = min(floor_runs, key=lambda run: run.seconds)
    path.unlink()
    complete = (tunebot.count, tunebot.problems) == (CONVERSATIONS, 0) and floor.count == CONVERSATIONS
    ratio = tunebot.seconds / floor.seconds if floor.seconds else float("inf")
    label = (
        f"Validate {CONVERSATIONS:,}-conversation Vertex JSONL ({EXCHANGES} turns + system, {size_mb:.0f} MB)"
    )
    details["conversations"] = {
        "size_mb": round(size_mb, 1),
        "ratio": round(ratio, 2),
        "rounds": {
            "tunebot_seconds": [round(run.seconds, 3) for run in tunebot_runs],
            "floor_seconds": [round(run.seconds, 3) for run in floor_runs],
        },
        "tunebot": asdict(tunebot),
        "floor": asdict(floor),
    }
    return [
        Row(
            f"{label}: time",
            f"{tunebot.seconds:.2f} s ({ratio:.1f}×)",
            f"{floor.seconds:.2f} s ({FLOOR_NAMES['.jsonl']})",
            f"< {TARGET_RATIO:.0f}× the baseline",
            complete and ratio < TARGET_RATIO,
            value=tunebot.seconds,
            baseline_value=floor.seconds,
        ),
        Row(
            f"{label}: peak RSS",
            f"{tunebot.peak_kib / 1024:.0f} MB",
            f"{floor.peak_kib / 1024:.0f} MB",
            f"< {TARGET_CONVERSATION_RSS_KIB // 1024} MB",
            complete and tunebot.peak_kib < TARGET_CONVERSATION_RSS_KIB,
            value=tunebot.peak_kib / 1024,
            baseline_value=floor.peak_kib / 1024,
        ),
    ]
