"""A sweep whose starting process died part-way: its plan (each variant's start, on the sweep
row) round-trips through JSON, and once the start hold has expired the process holding the
sweep starts exactly the planned variants that have no job, on the sweep's held-out split."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.datasets.samples import tutorial_csv
from bot.domain.pricing import CostEstimate, Price
from bot.domain.requests import StartArgs, ValidationChoice
from bot.domain.sweeps import PlannedVariant, plan_from_json, plan_to_json
from bot.services.jobs import start_job
from bot.services.sweep_board import board_of
from bot.services.sweeps import check_sweep, holdout_seed, named_starts, record_sweep, variant_label
from bot.slack.sweep_commands import parse_sweep
from bot.storage.models import Sweep, TuningJob, utcnow
from bot.storage.repositories.datasets import decode_examples
from bot.storage.store import Store
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, OWNER, running_stack, store_of, upload_file

SWEEP = "tutorial epochs=2,4 learning_rate_multiplier=0.5,1 validation=20%"


def test_a_plan_round_trips_through_json() -> None:
    price = Price(
        "gemini-2.5-flash",
        Decimal("5.00"),
        Decimal("0.30"),
        None,
        "USD",
        "https://cloud.google.com/vertex-ai/generative-ai/pricing",
        date(2026, 11, 1),
        checked=False,
    )
    plan = [
        PlannedVariant(
            StartArgs(
                "tutorial",
                "tutorial e2 lr×0.5",
                epoch_count=2,
                learning_rate_multiplier=0.5,
                validation=ValidationChoice(percent=20.0),
            ),
            "e2 lr×0.5",
            CostEstimate("estimated", "gemini-2.5-flash", 2, 12_345, 678, "USD", price),
        ),
        PlannedVariant(
            StartArgs("tutorial", "tutorial a4", adapter_size=4, validation=ValidationChoice(dataset="held")),
            "a4",
            CostEstimate("estimated", "gemini-2.5-pro", None, 10, 0, "EUR", None),
        ),
        PlannedVariant(StartArgs("tutorial", "tutorial e4", epoch_count=4, from_model="support-v1"), "e4"),
    ]
    again = plan_from_json(plan_to_json(plan))
    assert again == plan
    assert again[0].cost is not None and again[0].cost.amount == plan[0].cost.amount  # type: ignore[union-attr]
    assert plan_from_json(None) == []


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def expire_start_hold(store: Store, sweep_id: int) -> None:
    """The process starting the sweep died: its start hold ran out."""
    with store.session() as session:
        row = session.get(Sweep, sweep_id)
        assert row is not None
        row.start_expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()


async def test_an_interrupted_sweep_start_is_resumed_with_exactly_its_missing_variants(
    vertex_stack: OfflineStack,
) -> None:
    """A 4-variant sweep whose starting process died after 2 variants: while its start hold
    lasts, nothing happens; once it expired, one cycle starts the 2 missing variants (as the
    sweep's owner, in its channel, holding out the same examples) and later cycles start none."""
    stack = vertex_stack
    assert stack.emulator is not None and stack.runtime is not None
    vertex = stack.emulator.emulator.vertex
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    store, backend = store_of(stack), stack.runtime.ctx.backend
    team = stack.workspace.team_id
    args = parse_sweep(SWEEP)
    dataset = check_sweep(store, backend, team_id=team, args=args)
    plan = [
        PlannedVariant(named, variant_label(settings))
        for named, settings in zip(named_starts(args, dataset), args.settings, strict=True)
    ]
    sweep = record_sweep(store, team, OWNER, CHANNEL, args, dataset, plan, 60.0)
    assert sweep.id is not None and sweep.start_state == "starting"
    for variant in plan[:2]:  # ... then the process died
        await stack.arun(
            start_job(
                store,
                backend,
                team_id=team,
                user_id=OWNER,
                channel_id=CHANNEL,
                args=variant.args,
                holdout_seed=holdout_seed(sweep.id),
                sweep_id=sweep.id,
            )
        )
    before = len(vertex.create_requests)

    await stack.poll()  # still within the start hold: the starting process may be alive
    assert len(vertex.create_requests) == before and len(store.sweeps.variants(sweep.id)) == 2
    row = store.sweeps.get(sweep.id)
    assert row is not None and row.start_state == "starting"

    expire_start_hold(store, sweep.id)
    await stack.poll()
    assert len(vertex.create_requests) == before + 2
    variants = store.sweeps.variants(sweep.id)
    assert sorted(v.display_name for v in variants) == sorted(v.args.display_name or "" for v in plan)
    assert {(v.owner_user_id, v.channel_id) for v in variants} == {(OWNER, CHANNEL)}
    held = []
    for job in variants:
        holdout = store.evaluations.holdout(job.id or 0)
        assert holdout is not None and holdout.example_count > 0
        held.append(decode_examples(holdout.examples_gz))
    assert all(h == held[0] for h in held)
    row = store.sweeps.get(sweep.id)
    assert row is not None and row.start_state == "started" and row.start_expires_at is None

    for _ in range(2):  # later cycles start nothing more, and post the new variants' messages
        await stack.poll(all_due=True)
    assert len(vertex.create_requests) == before + 2
    variants = store.sweeps.variants(sweep.id)
    assert len(variants) == 4 and all(v.message_ts for v in variants)


def test_a_sweep_still_starting_has_not_ended_even_when_its_started_variants_have() -> None:
    """Two variants that failed at once while the other two were still to be started (or to
    be resumed): no end notice yet, and the sweep stays with its holders until it is started."""
    grid = json.dumps({"epochs": ["2", "4"], "learning_rate_multiplier": ["0.5", "1"]})
    jobs = [
        TuningJob(
            id=number,
            team_id="T1",
            owner_user_id=OWNER,
            channel_id=CHANNEL,
            backend="vertex",
            display_name=f"tutorial e2 lr×{rate}",
            base_model="gemini-2.5-flash",
            epoch_count=2,
            batch_size=0,
            learning_rate=0.0,
            state="failed",
            sweep_id=1,
        )
        for number, rate in ((1, "0.5"), (2, "1"))
    ]
    sweep = Sweep(
        id=1, team_id="T1", owner_user_id=OWNER, channel_id=CHANNEL, dataset_name="tutorial", grid=grid
    )
    assert board_of(sweep, jobs, {}).ended
    sweep.start_state = "starting"
    assert not board_of(sweep, jobs, {}).ended
