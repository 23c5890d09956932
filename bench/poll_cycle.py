"""One poll cycle over 1,000 active jobs with 50 ms of emulated API latency.

Setup: 1,000 tuned models created in the emulator (its Python API, clock frozen), and
1,000 `running` TuningJob rows in the bot's database, each with a progress message
posted in the fake workspace so that `chat.update` can edit it. The emulator clock is
then moved 10 steps so every job shows new progress (one edit per job is due), the
latency fault is set to 50 ms and the emulator's and Slack's request counts are reset.

Measured: `OfflineStack.poll()` (the production `Poller.run_cycle`), wall time, and
the requests it made: `operations.get` per job (must be exactly 1) and `chat.update`
per job.

Baseline: a sequential loop, `await backend.poll(operation)` one job at a time over the
same operations with the same client. Only API calls, no database or Slack work (so
the cheaper loop). A sample is timed and extrapolated to all jobs.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import Row, Section
from bot.emulator.testing import FrozenClock
from bot.fakeslack import DEFAULT_CHANNEL
from bot.offline import OfflineConfig, OfflineStack
from bot.storage.models import TuningJob, utcnow
from bot.tuning.backend import TuningBackend

LATENCY = 0.050
TARGET_SECONDS = 2.0
TARGET_SPEEDUP = 25.0
BASE_MODEL = "models/gemini-1.5-flash-001-tuning"
OWNER = "U0BENCHOWNER"
EXAMPLES = [{"text_input": f"question {i}", "output": f"answer {i}"} for i in range(20)]


def _seed(stack: OfflineStack, count: int) -> list[str]:
    """`count` tuning models in the emulator and matching running jobs; returns operation names."""
    assert stack.emulator is not None and stack.runtime is not None
    emulator = stack.emulator.emulator
    store = stack.runtime.ctx.store
    due = utcnow() - timedelta(seconds=1)
    operations: list[str] = []
    with store.session() as session:
        for i in range(count):
            operation = emulator.create_tuned_model(
                {
                    "display_name": f"bench {i}",
                    "base_model": BASE_MODEL,
                    "tuning_task": {
                        "training_data": {"examples": {"examples": EXAMPLES}},
                        "hyperparameters": {"epoch_count": 5, "batch_size": 2},
                    },
                }
            )
            metadata = operation["metadata"]
            message = stack.workspace.post_message(DEFAULT_CHANNEL, f"Tuning bench {i}…")
            operations.append(str(operation["name"]))
            session.add(
                TuningJob(
                    team_id=stack.workspace.team_id,
                    owner_user_id=OWNER,
                    channel_id=DEFAULT_CHANNEL,
                    message_ts=message.ts,
                    display_name=f"bench {i}",
                    base_model=BASE_MODEL,
                    model_name=str(metadata["tunedModel"]),
                    operation_name=operation["name"],
                    epoch_count=5,
                    batch_size=2,
                    learning_rate=0.001,
                    state="running",
                    total_steps=int(metadata.get("totalSteps", 0)) or None,
                    next_poll_at=due,
                )
            )
        session.commit()
    return operations


async def _sequential(backend: TuningBackend, operations: list[str]) -> float:
    started = time.perf_counter()
    for name in operations:
        await backend.poll(name)
    return time.perf_counter() - started


def run(quick: bool = False) -> Section:
    jobs = 200 if quick else 1000
    sample = 20 if quick else 100
    clock = FrozenClock()
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp:
        config = OfflineConfig(database_url=f"sqlite:///{Path(tmp) / 'tunebot.db'}", emulator_clock=clock)
        with OfflineStack(config) as stack:
            assert stack.emulator is not None and stack.runtime is not None
            emulator = stack.emulator.emulator
            operations = _seed(stack, jobs)
            emulator.advance(10)  # 10 of 50 steps done: every job's message has news
            emulator.update_faults({"latency_seconds": LATENCY})
            emulator.reset_stats()
            stack.workspace.clear_calls()

            started = time.perf_counter()
            report = stack.run(stack.runtime.poller.run_cycle(), timeout=600)
            cycle = time.perf_counter() - started

            stats: dict[str, Any] = emulator.stats()
            updates = Counter(str(c.params.get("ts")) for c in stack.workspace.calls("chat.update"))
            slack_calls = Counter(c.method for c in stack.workspace.calls())

            emulator.reset_stats()
            timed = operations[:sample]
            sequential_sample = stack.run(_sequential(stack.runtime.ctx.backend, timed), timeout=600)
            sequential_stats: dict[str, Any] = emulator.stats()

    per_operation = Counter(stats["operations_get"].values())
    exact_one = len(stats["operations_get"]) == jobs and set(per_operation) == {1}
    api_total = int(stats["total"])
    per_job_sequential = sequential_sample / len(timed)
    sequential = per_job_sequential * jobs
    speedup = sequential / cycle
    extrapolated = len(timed) < jobs
    seq_text = f"{sequential:.1f} s sequential" + (
        f" ({len(timed)} jobs timed x {jobs / len(timed):.0f})" if extrapolated else ""
    )
    floor = jobs / 50 * LATENCY  # 50 in flight at a time, each waits out the latency
    label = f"Poll cycle ({jobs:,} jobs, {LATENCY * 1000:.0f} ms API latency)"
    rows = [
        Row(
            f"{label}: wall time",
            f"{cycle:.2f} s",
            seq_text,
            f"< {TARGET_SECONDS:.0f} s",
            cycle < TARGET_SECONDS and report.errors == 0,
            value=cycle,
            baseline_value=sequential,
            note=f"latency floor at concurrency 50: {floor:.1f} s",
        ),
        Row(
            f"{label}: speed-up vs sequential loop",
            f"{speedup:.1f}x",
            "1x",
            f">= {TARGET_SPEEDUP:.0f}x",
            speedup >= TARGET_SPEEDUP,
            value=speedup,
            baseline_value=1.0,
        ),
        Row(
            f"{label}: API calls per job",
            f"{api_total / jobs:g} (operations.get: {min(per_operation, default=0)}-"
            f"{max(per_operation, default=0)} per job)",
            f"{int(sequential_stats['total']) / len(timed):g}",
            "exactly 1",
            exact_one and api_total == jobs,
            value=api_total / jobs,
            baseline_value=int(sequential_stats["total"]) / len(timed),
        ),
        Row(
            f"{label}: chat.update per job",
            f"{sum(updates.values()) / jobs:g} ({len(updates):,} messages edited)",
            "-",
            "<= 1 (only when the shown progress changed)",
            len(updates) == sum(updates.values()) and sum(updates.values()) <= jobs,
            value=sum(updates.values()) / jobs,
        ),
    ]
    details = {
        "jobs": jobs,
        "latency_seconds": LATENCY,
        "cycle_seconds": round(cycle, 3),
        "report": {
            "claimed": report.claimed,
            "polled": report.polled,
            "errors": report.errors,
            "edits": report.edits,
            "notices": report.notices,
        },
        "emulator_requests_by_method": stats["by_method"],
        "operations_get_histogram": {str(k): v for k, v in per_operation.items()},
        "slack_calls_by_method": dict(slack_calls),
        "sequential_jobs_timed": len(timed),
        "sequential_seconds_timed": round(sequential_sample, 3),
        "sequential_seconds_per_job": round(per_job_sequential, 4),
        "sequential_seconds_extrapolated": round(sequential, 2),
        "latency_floor_seconds": floor,
    }
    return Section("poll_cycle", rows, details)
