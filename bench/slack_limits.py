"""200 running Vertex AI jobs finishing over about 5 minutes, with the fake Slack enforcing
Slack's rate limits (standins/fakeslack/ratelimits.py), beside the same run with the limits off.

Setup: the offline stack on the Vertex backend in this process (the production runtime,
poller, progress editor and Slack client; the emulator; the fake Slack). One simulated clock
drives the emulator, the fake Slack's rate-limit windows and the bot's Slack pacing, so
the simulated minutes take a few real seconds: the driver moves the clock a quarter of a
second at a time and runs a poll cycle every `TUNEBOT_POLL_INTERVAL` (12 s) of it, as the
scheduler would; the bot's waits for a channel's turn to post, and for Retry-After, move
the clock themselves (they are in the cycle's path), the progress editor waits for the
driver. 200 jobs (one owner, one channel) are created at once, lasting from about 10 s to
5 minutes, their ends spread evenly (a notice every 1.5 s on average in the channel, which
takes one a second); their messages are posted before the clock starts. Loss charts are
uploaded as usual but drawn as a stub (drawing is measured elsewhere; only Slack's calls
count here).

Measured, in simulated time: the delay from a job's end (the emulator's `endTime`) to its
notice in Slack (p50, p99; target p99 < poll interval + 10 s); notices per job (exactly
1); the share of Slack calls answered 429 (target < 1 %); the longest time a running job's
message went without an edit (target 2 minutes; see docs/benchmarks.md for why 200 jobs
cannot all be edited that often under Tier 3).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import Row, Section, percentile
from bot.backends.vertex_backend import VertexBackend
from bot.domain.types import TrainingExample, TuningRequest
from bot.polling.edits import ProgressEditor
from bot.slack.reporter import NOTICE_EVENT_TYPE, SlackReporter
from bot.storage.models import TuningJob
from standins.emulator.running import TUTORIAL_START
from standins.fakeslack import DEFAULT_CHANNEL, WorkspaceEvent
from standins.offline import OfflineConfig, OfflineStack

POLL_INTERVAL = 12.0
STEP = 0.25  # simulated seconds per driver step
SPAN = 300.0  # the jobs end over this many simulated seconds
EPOCHS = 2
EDIT_GAP_TARGET = 120.0
NOTICE_MARGIN = 10.0
STUB_PNG = b"\x89PNG\r\n\x1a\n"


class SimClock:
    """Seconds that move only when told: `advance` (the driver) or `pass_time` (a wait that
    moves the clock itself); `sleep` waits for the driver. Thread-safe, like the test clock."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + seconds, future)
        with self._lock:
            self._sleepers.append(entry)
        try:
            await future
        finally:
            with self._lock:
                if entry in self._sleepers:
                    self._sleepers.remove(entry)

    async def pass_time(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            due = [f for end, f in self._sleepers if end <= self.now]
            self._sleepers = [(end, f) for end, f in self._sleepers if end > self.now]
        for future in due:
            future.get_loop().call_soon_threadsafe(_wake, future)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class EmulatorTime:
    """The emulator's clock: still while the job messages are posted, then the simulated clock."""

    def __init__(self, sim: SimClock) -> None:
        self.sim = sim
        self.started_at: float | None = None

    def __call__(self) -> float:
        if self.started_at is None:
            return TUTORIAL_START
        return TUTORIAL_START + self.sim.now - self.started_at

    def to_sim(self, emulator_seconds: float) -> float:
        assert self.started_at is not None
        return emulator_seconds - TUTORIAL_START + self.started_at


def _editor_turn(editor: ProgressEditor, limit: float = 2.0) -> None:
    """Let the editor send what is due at this simulated moment before the clock moves on
    (it runs in real time on the bot's loop; the clock must not run ahead of it)."""
    deadline = time.perf_counter() + limit
    time.sleep(0.0005)
    while editor.due() and time.perf_counter() < deadline:
        time.sleep(0.0005)


def _examples(steps: int) -> list[TrainingExample]:
    count = max(1, steps // EPOCHS) * 8  # the emulator: 8 examples a step, per epoch
    return [TrainingExample(f"q{n}", f"a{n}") for n in range(count)]


async def _create(backend: VertexBackend, jobs: int) -> list[str]:
    names = []
    for n in range(jobs):
        steps = 10 + round((SPAN - 10) * (n + 1) / jobs)  # ends spread evenly over SPAN
        request = TuningRequest(
            display_name=f"bench {n}",
            base_model="gemini-2.5-flash",
            examples=_examples(steps),
            epoch_count=EPOCHS,
            batch_size=8,
            learning_rate=0.001,
            model_id=f"bench-{n}",
        )
        names.append((await backend.start(request)).operation_name)
    return names


async def _end_times(backend: VertexBackend, names: list[str]) -> list[float | None]:
    ends: list[float | None] = []
    for name in names:
        job = await backend.client.get_tuning_job(name)
        ends.append(job.end_time.timestamp() if job.end_time else None)
    return ends


def simulate(jobs: int, limits: bool) -> dict[str, Any]:
    """One simulated run, the fake Slack enforcing its rate limits or not."""
    sim = SimClock()
    emulator_time = EmulatorTime(sim)
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp:
        config = OfflineConfig(
            database_url=f"sqlite:///{Path(tmp) / 'tunebot.db'}",
            emulator_clock=emulator_time,
            backend="vertex",
            slack_clock=sim,
            slack_rate_limits=limits,
            slack_sleep=sim.pass_time,
        )
        with OfflineStack(config) as stack:
            assert stack.runtime is not None and stack.emulator is not None
            runtime = stack.runtime
            backend = runtime.ctx.backend
            assert isinstance(backend, VertexBackend)
            reporter = runtime.poller.reporter
            assert isinstance(reporter, SlackReporter)
            reporter.chart = lambda *_: STUB_PNG
            editor = runtime.poller.edits
            assert editor is not None
            editor.sleep = sim.sleep  # the editor runs beside the cycles: it waits for the driver
            names = stack.run(_create(backend, jobs), timeout=600)
            store = runtime.ctx.store
            ids: dict[str, int] = {}
            for n, name in enumerate(names):
                job = store.jobs.create(
                    TuningJob(
                        team_id=stack.workspace.team_id,
                        owner_user_id="U0BENCH",
                        channel_id=DEFAULT_CHANNEL,
                        backend="vertex",
                        display_name=f"bench {n}",
                        base_model="gemini-2.5-flash",
                        model_name=name,
                        operation_name=name,
                        epoch_count=EPOCHS,
                        batch_size=8,
                        learning_rate=0.001,
                        state="running",
                    )
                )
                assert job.id is not None
                ids[name] = job.id
            # The job messages, before the clock starts (one a second in the channel, with limits).
            store.jobs.make_all_due()
            stack.run(runtime.poller.run_cycle(), timeout=600)
            stack.run(editor.drain(), timeout=600)

            shows: dict[str, list[float]] = defaultdict(list)  # message ts -> when shown
            notices: dict[int, list[float]] = defaultdict(list)

            def on_event(event: WorkspaceEvent) -> None:
                message = event.payload
                if event.kind == "message_updated" and event.ts:
                    shows[event.ts].append(sim.now)
                elif event.kind == "message_posted":
                    meta = getattr(message, "metadata", None) or {}
                    if meta.get("event_type") == NOTICE_EVENT_TYPE:
                        notices[int(meta["event_payload"]["job_id"])].append(sim.now)

            stack.workspace.subscribe(on_event)
            stack.workspace.clear_calls()
            emulator_time.started_at = sim.now
            start = sim.now
            next_cycle = start
            cycle_seconds: list[float] = []
            cycle_spans: list[tuple[float, float]] = []  # (simulated start, simulated length)
            real_started = time.perf_counter()
            while sim.now < start + SPAN + 60:
                if sim.now >= next_cycle:
                    store.jobs.make_all_due()
                    began, began_sim = time.perf_counter(), sim.now
                    stack.run(runtime.poller.run_cycle(), timeout=600)
                    cycle_seconds.append(time.perf_counter() - began)
                    cycle_spans.append((round(began_sim - start, 2), round(sim.now - began_sim, 2)))
                    while next_cycle <= sim.now:  # APScheduler coalesces missed runs
                        next_cycle += POLL_INTERVAL
                sim.advance(min(STEP, max(0.0, next_cycle - sim.now)) or STEP)
                _editor_turn(editor)
            real_seconds = time.perf_counter() - real_started
            calls = stack.workspace.calls()
            ends = stack.run(_end_times(backend, names), timeout=600)
            messages = {ids[name]: store.jobs.get(ids[name]) for name in names}
    by_status = Counter(c.status for c in calls)
    by_method = Counter(c.method for c in calls)
    refused = Counter(c.method for c in calls if c.status == 429)
    delays: list[float] = []
    counts: Counter[int] = Counter()
    worst_gap = 0.0
    gaps_over = 0
    for name, end in zip(names, ends, strict=True):
        job_id = ids[name]
        posted = notices.get(job_id, [])
        counts[len(posted)] += 1
        if end is None:
            continue
        end_sim = emulator_time.to_sim(end)
        if posted:
            delays.append(posted[0] - end_sim)
        row = messages[job_id]
        seen = sorted(t for t in shows.get(row.message_ts or "", []) if t <= end_sim) if row else []
        points = [start, *seen, end_sim]
        gap = max(b - a for a, b in itertools.pairwise(points))
        worst_gap = max(worst_gap, gap)
        gaps_over += gap > EDIT_GAP_TARGET
    return {
        "limits": limits,
        "jobs": jobs,
        "simulated_seconds": round(sim.now - start, 1),
        "real_seconds": round(real_seconds, 1),
        "cycles": len(cycle_seconds),
        "cycle_seconds_max": round(max(cycle_seconds, default=0.0), 3),
        "cycles_simulated": cycle_spans,
        "notice_delay_p50": percentile(delays, 50),
        "notice_delay_p99": percentile(delays, 99),
        "notice_delay_max": max(delays, default=math.nan),
        "notices_per_job": {str(k): v for k, v in counts.items()},
        "calls": sum(by_status.values()),
        "calls_429": by_status.get(429, 0),
        "calls_by_method": dict(by_method),
        "refused_by_method": dict(refused),
        "edits": by_method.get("chat.update", 0),
        "longest_edit_gap": worst_gap,
        "jobs_over_edit_gap": gaps_over,
    }


def run(quick: bool = False) -> Section:
    jobs = 50 if quick else 200
    on = simulate(jobs, limits=True)
    off = simulate(jobs, limits=False)
    label = f"Slack rate limits ({jobs} Vertex jobs ending over 5 min, 1 channel, simulated clock)"
    target_delay = POLL_INTERVAL + NOTICE_MARGIN

    def share(figures: dict[str, Any]) -> float:
        return 100.0 * figures["calls_429"] / max(1, figures["calls"])

    def once(figures: dict[str, Any]) -> bool:
        return figures["notices_per_job"] == {"1": jobs}

    rows = [
        Row(
            f"{label}: notice delay after the job ends, p99",
            f"{on['notice_delay_p99']:.1f} s (p50 {on['notice_delay_p50']:.1f} s)",
            f"{off['notice_delay_p99']:.1f} s (p50 {off['notice_delay_p50']:.1f} s), limits off",
            f"< {target_delay:.0f} s (poll interval + 10 s)",
            on["notice_delay_p99"] < target_delay,
            value=on["notice_delay_p99"],
            baseline_value=off["notice_delay_p99"],
        ),
        Row(
            f"{label}: notices per job",
            "exactly 1" if once(on) else str(on["notices_per_job"]),
            ("exactly 1" if once(off) else str(off["notices_per_job"])) + ", limits off",
            "exactly 1 (none lost, none doubled)",
            once(on),
        ),
        Row(
            f"{label}: Slack calls answered 429",
            f"{share(on):.2f} % ({on['calls_429']} of {on['calls']:,})",
            f"{share(off):.2f} % ({off['calls_429']} of {off['calls']:,}), limits off",
            "< 1 %",
            share(on) < 1.0,
            value=share(on),
            baseline_value=share(off),
        ),
        Row(
            f"{label}: longest a running job's message went unedited",
            f"{on['longest_edit_gap']:.0f} s ({on['jobs_over_edit_gap']} jobs over 2 min)",
            f"{off['longest_edit_gap']:.0f} s ({off['jobs_over_edit_gap']} jobs over 2 min), limits off",
            f"<= {EDIT_GAP_TARGET:.0f} s",
            on["longest_edit_gap"] <= EDIT_GAP_TARGET,
            value=on["longest_edit_gap"],
            baseline_value=off["longest_edit_gap"],
            note=f"{jobs} messages every 2 minutes need {jobs // 2} chat.update a minute; "
            "Tier 3 allows about 50",
        ),
    ]
    details = {"limits_on": on, "limits_off": off}
    return Section("slack_limits", rows, details)
