"""`/tune start` ack latency with spend policies and budgets checked, beside the same starts
without a policy, in one run (issue #22: no more than 5 ms slower at p99).

Two `tunebot run` processes in HTTP mode, one after the other, each on its own SQLite file
seeded alike: a 15-example dataset and 1,000 earlier jobs this month with costs (so the budget
check sums a real month). The second has every limit set (who may start: listed channels; an
approval threshold; monthly budgets per person and per channel), all generous enough that the
starts are allowed, so both answer the same way and the difference is the checking. Bursts of
concurrent signed `/tune start` commands are timed from writing each request to reading its
whole answer (the ack); the jobs they start are created after the ack, on the emulator.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from bench.ack_latency import SLACK_LIMIT, _start_bot, _timed, signed_command
from bench.common import Row, Section, ms, percentile
from bench.stand_ins import StandIns
from bot.datasets.core import shape_of
from bot.datasets.samples import TUTORIAL_EXAMPLES
from bot.storage.models import TuningJob, utcnow
from bot.storage.store import Store

CONCURRENCY = 20
EARLIER_JOBS = 1_000
TARGET_EXTRA = 0.005  # the policy may cost at most 5 ms at p99
POLICY = {
    "TUNEBOT_STARTERS": "channels:C0GENERAL,C0OTHER",
    "TUNEBOT_APPROVAL_ABOVE": "1000",
    "TUNEBOT_MONTHLY_BUDGET_PER_USER": "100000",
    "TUNEBOT_MONTHLY_BUDGET_PER_CHANNEL": "1000000",
    "TUNEBOT_TRAINING_PRICES": "gemini-1.5-flash-001-tuning=5",
}
PRICES_ONLY = {"TUNEBOT_TRAINING_PRICES": POLICY["TUNEBOT_TRAINING_PRICES"]}


def _seed(database_url: str) -> None:
    store = Store.from_url(database_url)
    examples = list(TUTORIAL_EXAMPLES)
    store.datasets.add(
        team_id="T0TEAM",
        owner_user_id="U0BENCH00",
        channel_id="C0GENERAL",
        name="bench",
        file_name="bench.csv",
        format="csv",
        sha256="b" * 64,
        examples=examples,
        shape=shape_of(examples),
    )
    now = utcnow()
    for n in range(EARLIER_JOBS):
        store.jobs.create(
            TuningJob(
                team_id="T0TEAM",
                owner_user_id=f"U0BENCH{n % 10:02d}",
                channel_id="C0GENERAL",
                display_name=f"earlier {n}",
                base_model="models/gemini-1.5-flash-001-tuning",
                model_name=f"tunedModels/earlier-{n}",
                epoch_count=1,
                batch_size=1,
                learning_rate=0.001,
                state="succeeded",
                percent=100.0,
                estimated_cost=1.25,
                counted_cost=1.5 if n % 2 else None,
                cost_currency="USD",
                created_at=now - timedelta(minutes=n),
                notice_state="done",
                message_state="posted",
                eval_state="skipped",
            )
        )
    store.engine.dispose()


async def _bursts(port: int, response_url: str, bursts: int) -> tuple[list[float], list[int]]:
    acks: list[float] = []
    statuses: list[int] = []
    for burst in range(bursts + 1):  # the first burst warms up and is not counted
        requests = [
            signed_command(f'start bench name="b{burst}-{i}" epochs=1', f"U0BENCH{i % 10:02d}", response_url)
            for i in range(CONCURRENCY)
        ]
        results = await asyncio.gather(*(_timed(port, r) for r in requests))
        await asyncio.sleep(1.0)  # the starts' own work after the ack settles
        if burst:
            acks.extend(e for e, _ in results)
            statuses.extend(s for _, s in results)
    return acks, statuses


def _measure(
    stand_ins: StandIns, workdir: Path, env: dict[str, str], bursts: int
) -> tuple[list[float], list[int]]:
    workdir.mkdir()
    _seed(f"sqlite:///{workdir / 'tunebot.db'}")
    process, port = _start_bot(stand_ins, workdir, env)
    try:
        return asyncio.run(_bursts(port, stand_ins.slack_url + "/response/bench", bursts))
    finally:
        process.terminate()
        process.wait(10)


def run(quick: bool = False) -> Section:
    bursts = 2 if quick else 6
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp, StandIns() as stand_ins:
        plain, plain_status = _measure(stand_ins, Path(tmp) / "plain", PRICES_ONLY, bursts)
        checked, checked_status = _measure(stand_ins, Path(tmp) / "policy", POLICY, bursts)
    bad = [s for s in plain_status + checked_status if s != 200]
    p50, p99 = percentile(checked, 50), percentile(checked, 99)
    b50, b99 = percentile(plain, 50), percentile(plain, 99)
    label = f"`/tune start` ack with policies and budgets checked, {CONCURRENCY} concurrent, {bursts} bursts"
    rows = [
        Row(
            f"{label}, p50",
            ms(p50),
            f"{ms(b50)} (no policy)",
            "-",
            not bad,
            value=p50,
            baseline_value=b50,
            graded=False,
        ),
        Row(
            f"{label}, p99",
            f"{ms(p99)} ({(p99 - b99) * 1000:+.1f} ms)",
            f"{ms(b99)} (no policy)",
            f"≤ {TARGET_EXTRA * 1000:.0f} ms slower (Slack: {SLACK_LIMIT * 1000:,.0f} ms)",
            not bad and p99 - b99 <= TARGET_EXTRA,
            value=p99,
            baseline_value=b99,
        ),
    ]
    details = {
        "requests": len(checked) + len(plain),
        "non_200": len(bad),
        "earlier_jobs_this_month": EARLIER_JOBS,
        "policy": POLICY,
        "setup": "two tunebot run processes (HTTP mode), one after the other, seeded alike; raw asyncio",
    }
    return Section("start_ack", rows, details)
