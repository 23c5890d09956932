"""What every measurement returns, machine facts, and the printed table."""

from __future__ import annotations

import contextlib
import math
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Whether the fake Slack enforces Slack's rate limits (`python -m bench --slack-limits on|off`;
# on by default, as Slack does). The stand-ins process and the in-process stacks read it.
SLACK_LIMITS = {"on": True}


def slack_limits() -> bool:
    return SLACK_LIMITS["on"]


@dataclass
class Row:
    """One line of the table: tunebot's figure next to a floor measured in the same run."""

    measurement: str
    figure: str
    baseline: str
    target: str
    passed: bool
    value: float | None = None  # the figure as a number (seconds, MB, x), for --json
    baseline_value: float | None = None
    note: str = ""
    graded: bool = True  # False: shown for context, no target of its own


@dataclass
class Section:
    """The rows of one measurement plus everything else it found out (kept in --json)."""

    name: str
    rows: list[Row]
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "seconds": round(self.seconds, 2),
            "rows": [asdict(r) for r in self.rows],
            "details": self.details,
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def mb(kib: float) -> str:
    return f"{kib / 1024:.0f} MB"


def read_status_kib(pid: int | str, key: str) -> int:
    """A `kB` field (VmRSS, VmHWM…) of /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(f"{key} not in /proc/{pid}/status")


def machine_facts() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    memory = "unknown"
    with contextlib.suppress(OSError, KeyError):
        memory = mb(read_status_kib_meminfo("MemTotal"))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "executable": sys.executable,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def read_status_kib_meminfo(key: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def result(row: Row) -> str:
    if not row.graded:
        return "-" if row.passed else "FAIL"
    return "pass" if row.passed else "FAIL"


def render_table(rows: Sequence[Row]) -> str:
    """A Markdown table (it reads as a plain table in a terminal too)."""
    header = ("Measurement", "tunebot", "Baseline (same run)", "Target", "Result")
    body = [(r.measurement, r.figure, r.baseline, r.target, result(r)) for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(b) for b in body)])
