"""`python -m bench [--quick] [--json FILE] [--slack-limits on|off] [--only NAME ...]`: run the
benchmarks, print one table.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import (
    ack_latency,
    approval_ack,
    dataset_validation,
    evaluation,
    idle_rss,
    judged_leaderboard,
    poll_cycle,
    slack_limits,
    start_ack,
    try_context,
    under_load,
    vertex_poll,
)
from bench.common import SLACK_LIMITS, Row, Section, machine_facts, render_table

MEASUREMENTS: dict[str, Callable[[bool], Section]] = {
    "ack_latency": ack_latency.run,
    "start_ack": start_ack.run,
    "approval_ack": approval_ack.run,
    "poll_cycle": poll_cycle.run,
    "vertex_poll": vertex_poll.run,
    "slack_limits": slack_limits.run,
    "dataset_validation": dataset_validation.run,
    "evaluation": evaluation.run,
    "judged_leaderboard": judged_leaderboard.run,
    "try_context": try_context.run,
    "idle_rss": idle_rss.run,
    "under_load": under_load.run,
}


def _run_one(name: str, measure: Callable[[bool], Section], quick: bool) -> Section:
    started = time.perf_counter()
    try:
        section = measure(quick)
    except Exception as exc:
        section = Section(
            name,
            [Row(name, "error", "-", "-", False, note=f"{type(exc).__name__}: {exc}")],
            {"traceback": traceback.format_exc()},
        )
    section.seconds = time.perf_counter() - started
    return section


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test, not the figures)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also save the results as JSON")
    parser.add_argument(
        "--slack-limits",
        choices=("on", "off"),
        default="on",
        help="whether the fake Slack enforces Slack's rate limits (default on, as Slack does)",
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(MEASUREMENTS), metavar="NAME", help="run only these measurements"
    )
    args = parser.parse_args(argv)
    SLACK_LIMITS["on"] = args.slack_limits == "on"
    logging.basicConfig(level=logging.ERROR)

    facts = machine_facts()
    print(f"CPU:    {facts['cpu']} ({facts['cores']} cores, {facts['usable_cores']} usable)")
    print(f"Memory: {facts['memory']}")
    print(f"Python: {facts['python']} on {facts['platform']}")
    print(f"Load:   {facts['load_average_1m']} (1-minute average at start)")
    print(f"Mode:   {'quick' if args.quick else 'full'}, Slack rate limits {args.slack_limits}", flush=True)

    started = time.perf_counter()
    sections: list[Section] = []
    for name in args.only or list(MEASUREMENTS):
        print(f"  running {name}…", file=sys.stderr, flush=True)
        sections.append(_run_one(name, MEASUREMENTS[name], args.quick))
    total = time.perf_counter() - started

    rows = [row for section in sections for row in section.rows]
    print()
    print(render_table(rows))
    notes = [f"- {row.measurement}: {row.note}" for row in rows if row.note]
    if notes:
        print()
        print("\n".join(notes))
    print()
    load_end = machine_facts()["load_average_1m"]
    graded = [r for r in rows if r.graded]
    met = sum(r.passed for r in graded)
    print(f"{met}/{len(graded)} targets met in {total:.0f} s (1-minute load average at end: {load_end}).")

    if args.json is not None:
        payload = {
            "machine": facts,
            "load_average_1m_at_end": load_end,
            "quick": args.quick,
            "slack_limits": args.slack_limits,
            "seconds": round(total, 1),
            "sections": [s.to_json() for s in sections],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
