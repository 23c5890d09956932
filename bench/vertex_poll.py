"""Vertex AI live progress: API calls per job per poll cycle, and the cycle's wall time.

Setup: the offline stack on the Vertex backend (the production runtime, the fake Slack and
the emulator on a frozen clock, in this process). N tuning jobs with a validation set are
created through the backend and recorded as job rows; the clock is moved so every job is
tuning and its TensorBoard series exist; two warm-up cycles post the job messages and find
each job's series (Context, runs, series list: once per job and process).

Measured: three more cycles, the clock moved one step before each so every job has a new
step: Vertex requests per job per cycle (target: at most 2, the job and one TensorBoard
call; no points read), and the wall time of a cycle.

Baseline: what a poller that remembers nothing does for the same jobs in the same run: per
job the job, the Context, the runs, the series list and a batchRead of the loss points (the
"obvious" way to show a step and a loss), with the same concurrency (100 in flight).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Row, Section, slack_limits
from bench.slack_limits import SimClock
from bot.backends.vertex_backend import VertexBackend
from bot.backends.vertex_metrics import MetricsTracker
from bot.domain.types import TrainingExample, TuningRequest
from bot.polling.poller import CycleReport
from bot.storage.models import TuningJob
from standins.emulator.running import FrozenClock
from standins.fakeslack import DEFAULT_CHANNEL
from standins.offline import OfflineConfig, OfflineStack

TARGET_CALLS = 2.0
CONCURRENCY = 100
EXAMPLES = [TrainingExample(str(n), str(n + 1)) for n in range(64)]
VALIDATION = [TrainingExample(str(n), str(n + 1)) for n in range(100, 108)]


def _cycle(stack: OfflineStack) -> CycleReport:
    assert stack.runtime is not None
    stack.runtime.ctx.store.jobs.make_all_due()
    return stack.run(stack.runtime.poller.run_cycle(), timeout=300)


def _vertex_calls(stack: OfflineStack) -> Counter[str]:
    assert stack.emulator is not None
    by_method: dict[str, int] = stack.emulator.emulator.stats()["by_method"]
    return Counter({k: v for k, v in by_method.items() if k.startswith("vertex.")})


async def _create(backend: VertexBackend, jobs: int) -> list[str]:
    names = []
    for n in range(jobs):
        request = TuningRequest(
            display_name=f"bench {n}",
            base_model="gemini-2.5-flash",
            examples=EXAMPLES,
            epoch_count=4,
            batch_size=2,
            learning_rate=0.001,
            model_id=f"bench-{n}",
            validation_examples=VALIDATION,
        )
        names.append((await backend.start(request)).operation_name)
    return names


async def _baseline(backend: VertexBackend, names: list[str]) -> None:
    """Stateless: resolve the series and read the points for every job, every cycle."""
    limit = asyncio.Semaphore(CONCURRENCY)
    client = backend.client

    async def one(name: str) -> None:
        async with limit:
            job = await client.get_tuning_job(name)
            tracker = MetricsTracker(client)
            series = await tracker.resolve(job.experiment or "")
            assert series is not None
            listed = await client.list_time_series(series.run)
            await client.batch_read(series.tensorboard, [s.name for s in listed if "loss" in s.display_name])

    await asyncio.gather(*(one(name) for name in names))


def run(quick: bool = False) -> Section:
    jobs = 50 if quick else 200
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp:
        slack_clock = SimClock()
        config = OfflineConfig(
            database_url=f"sqlite:///{Path(tmp) / 'tunebot.db'}",
            emulator_clock=FrozenClock(),
            backend="vertex",
            # Slack's rate limits (unless --slack-limits off) on a simulated clock the bot's
            # waits move: posting 200 job messages in one channel takes 200 s of it, no real time.
            slack_clock=slack_clock,
            slack_rate_limits=slack_limits(),
            slack_sleep=slack_clock.pass_time,
        )
        with OfflineStack(config) as stack:
            assert stack.runtime is not None and stack.emulator is not None
            backend = stack.runtime.ctx.backend
            assert isinstance(backend, VertexBackend)
            names = stack.run(_create(backend, jobs), timeout=300)
            store = stack.runtime.ctx.store
            for n, name in enumerate(names):
                store.jobs.create(
                    TuningJob(
                        team_id=stack.workspace.team_id,
                        owner_user_id="U0BENCH",
                        channel_id=DEFAULT_CHANNEL,
                        backend="vertex",
                        display_name=f"bench {n}",
                        base_model="gemini-2.5-flash",
                        model_name=name,
                        operation_name=name,
                        epoch_count=4,
                        batch_size=2,
                        learning_rate=0.001,
                        state="running",
                    )
                )
            stack.emulator.advance(4)  # pending, dataset, then 2 of 32 steps
            for _ in range(2):  # post the messages, find the series
                _cycle(stack)
            before = _vertex_calls(stack)
            times = []
            for _ in range(3):
                stack.emulator.advance(1)
                started = time.perf_counter()
                report = _cycle(stack)
                times.append(time.perf_counter() - started)
                assert report.polled == jobs, report
            calls = _vertex_calls(stack) - before
            stack.emulator.advance(1)
            base_before = _vertex_calls(stack)
            started = time.perf_counter()
            stack.run(_baseline(backend, names), timeout=300)
            baseline_time = time.perf_counter() - started
            baseline_calls = _vertex_calls(stack) - base_before
    per_cycle = sum(calls.values()) / jobs / len(times)
    baseline_per_job = sum(baseline_calls.values()) / jobs
    points_read = calls.get("vertex.tensorboards.batchRead", 0) + calls.get(
        "vertex.tensorboards.timeSeries.read", 0
    )
    cycle = sum(times) / len(times)
    label = f"Vertex poll cycle ({jobs} jobs with validation sets, in-process emulator)"
    rows = [
        Row(
            f"{label}: API calls per job per cycle",
            f"{per_cycle:g}",
            f"{baseline_per_job:g} (stateless: job, context, runs, series, batchRead)",
            f"<= {TARGET_CALLS:g}, no points read",
            per_cycle <= TARGET_CALLS and points_read == 0,
            value=per_cycle,
            baseline_value=baseline_per_job,
        ),
        Row(
            f"{label}: wall time per cycle",
            f"{cycle:.2f} s",
            f"{baseline_time:.2f} s (stateless, API calls only)",
            "-",
            True,
            value=cycle,
            baseline_value=baseline_time,
            graded=False,
            note="the cycle also reads and writes the database and edits Slack messages",
        ),
    ]
    details: dict[str, Any] = {
        "jobs": jobs,
        "cycles_measured": len(times),
        "cycle_seconds": [round(t, 3) for t in times],
        "calls_by_method": dict(calls),
        "baseline_calls_by_method": dict(baseline_calls),
    }
    return Section("vertex_poll", rows, details)
