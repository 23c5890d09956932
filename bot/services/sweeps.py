"""`/tune sweep`: every combination of a grid started as a normal job, all holding out the
same examples (one split seed per sweep), recorded as one `sweep` row.

The row carries the sweep's plan (each variant's start) and a start hold: "starting", held by
the starting process (renewed as each variant starts), until every variant was handed to
`start_job`. If that process dies, the process holding the sweep's lease, once the hold has
expired, starts the planned variants that have no job yet (`resume_sweep`)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.backends.backend import TuningBackend
from bot.datasets.core import Limits
from bot.domain.errors import BackendError, UserError
from bot.domain.pricing import CostEstimate
from bot.domain.requests import StartArgs
from bot.domain.sweeps import (
    SWEEP_STARTED,
    SWEEP_STARTING,
    PlannedVariant,
    SweepArgs,
    plan_from_json,
    plan_to_json,
)
from bot.domain.types import JobState
from bot.services.cancel import CancelOutcome, cancel_job
from bot.services.errors import ServiceError
from bot.services.jobs import check_start, start_job
from bot.storage.models import Dataset, Sweep, TuningJob, utcnow
from bot.storage.store import Store

log = logging.getLogger(__name__)

SHORT_KEYS = {"base_model": "", "epochs": "e", "learning_rate_multiplier": "lr×", "adapter_size": "a"}
NAME_MAX = 40


def check_sweep(
    store: Store, backend: TuningBackend, *, team_id: str, args: SweepArgs, limits: Limits | None = None
) -> Dataset:
    """`/tune start`'s fast checks on every variant (no API call): a value the backend would
    refuse for any of them refuses the whole sweep before anything starts."""
    dataset = None
    for start in args.starts:
        dataset = check_start(store, backend, team_id=team_id, args=start, limits=limits)
    assert dataset is not None
    return dataset


def variant_label(settings: tuple[tuple[str, str], ...]) -> str:
    """A variant's settings, short: `e2 lr×0.5 a4`."""
    return " ".join(f"{SHORT_KEYS.get(key, key)}{value}" for key, value in settings)


def variant_name(base: str, settings: tuple[tuple[str, str], ...]) -> str:
    """The variant's model name: the sweep's name, shortened to leave room for its settings."""
    label = variant_label(settings)
    room = max(1, NAME_MAX - len(label) - 1)
    return f"{base[:room].rstrip()} {label}"[:NAME_MAX]


def sweep_grid(sweep: Sweep) -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = json.loads(sweep.grid)
    return loaded


def record_sweep(
    store: Store,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: SweepArgs,
    dataset: Dataset,
    plan: Sequence[PlannedVariant] = (),
    hold_seconds: float = 120.0,
) -> Sweep:
    """The sweep's row (before its variants start, or wait for approval). With a `plan`, the
    sweep is "starting", held by this process for `hold_seconds`; without one (approvals
    start the variants themselves), there is nothing to resume."""
    return store.sweeps.create(
        Sweep(
            team_id=team_id,
            owner_user_id=user_id,
            channel_id=channel_id,
            dataset_id=dataset.id,
            dataset_name=dataset.display_name[:200],
            grid=json.dumps({key: list(values) for key, values in args.grid}),
            rank_by=args.rank_by,
            plan=plan_to_json(plan) if plan else None,
            start_state=SWEEP_STARTING if plan else SWEEP_STARTED,
            start_expires_at=utcnow() + timedelta(seconds=hold_seconds) if plan else None,
        )
    )


def named_starts(args: SweepArgs, dataset: Dataset) -> list[StartArgs]:
    """Each variant's start, named by the sweep's name (or dataset) and its settings."""
    base = args.starts[0].display_name or dataset.display_name
    return [
        replace(start, display_name=variant_name(base, settings))
        for start, settings in zip(args.starts, args.settings, strict=True)
    ]


@dataclass
class SweepStarted:
    """What a sweep started: its row, its jobs, and the variants the service refused (label, error)."""

    sweep: Sweep
    jobs: list[TuningJob] = field(default_factory=list)
    refused: list[tuple[str, Exception]] = field(default_factory=list)


def holdout_seed(sweep_id: int) -> str:
    """The split seed every variant of a sweep uses, so they hold out the same examples."""
    return f"sweep-{sweep_id}"


async def start_sweep(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    args: SweepArgs,
    dataset: Dataset,
    hold_seconds: float = 120.0,
    eval_examples: int = 50,
    limits: Limits | None = None,
    costs: Sequence[CostEstimate | None] | None = None,
) -> SweepStarted:
    """Record the sweep with its plan, then start each variant with `start_job` (one after
    another; a variant the service refuses is reported and the others still start). The start
    hold is renewed before each variant; if it expired meanwhile (this process was stalled
    that long), the rest is left to `resume_sweep`."""
    plan = [
        PlannedVariant(named, variant_label(settings), costs[number] if costs else None)
        for number, (named, settings) in enumerate(
            zip(named_starts(args, dataset), args.settings, strict=True)
        )
    ]
    sweep = await store.run(
        record_sweep, store, team_id, user_id, channel_id, args, dataset, plan, hold_seconds
    )
    assert sweep.id is not None
    started = SweepStarted(sweep)
    for variant in plan:
        renewed = await store.run(store.sweeps.renew_start, sweep.id, now=utcnow(), hold_seconds=hold_seconds)
        if not renewed:
            log.warning("sweep %s: its start hold expired; the rest is left to the resume", sweep.id)
            return started
        await start_variant(
            store,
            backend,
            started,
            variant,
            hold_seconds=hold_seconds,
            eval_examples=eval_examples,
            limits=limits,
        )
    await store.run(store.sweeps.mark_started, sweep.id)
    if not started.jobs:
        await store.run(store.sweeps.delete, sweep.id)
    return started


async def start_variant(
    store: Store,
    backend: TuningBackend,
    started: SweepStarted,
    variant: PlannedVariant,
    *,
    hold_seconds: float,
    eval_examples: int,
    limits: Limits | None,
) -> None:
    """Start one planned variant of `started.sweep` with `start_job`, as the sweep's owner in
    its channel, on its held-out split; added to `started.jobs`, or to `started.refused` with
    the service's reason."""
    sweep = started.sweep
    assert sweep.id is not None
    try:
        job = await start_job(
            store,
            backend,
            team_id=sweep.team_id,
            user_id=sweep.owner_user_id,
            channel_id=sweep.channel_id,
            args=variant.args,
            hold_seconds=hold_seconds,
            eval_examples=eval_examples,
            limits=limits,
            cost=variant.cost,
            holdout_seed=holdout_seed(sweep.id),
            sweep_id=sweep.id,
        )
    except (ServiceError, UserError, BackendError) as exc:
        log.warning("sweep %s: variant %s was not started: %s", sweep.id, variant.label, exc)
        started.refused.append((variant.label, exc))
        return
    started.jobs.append(job)


def resume_due(sweep: Sweep, now: datetime) -> bool:
    """A sweep whose start was interrupted: still "starting", and its start hold expired
    (the process starting it died, or stalled for longer than its hold)."""
    if sweep.start_state != SWEEP_STARTING:
        return False
    expires = sweep.start_expires_at
    return expires is None or expires.replace(tzinfo=expires.tzinfo or UTC) < now


async def resume_sweep(
    store: Store,
    backend: TuningBackend,
    sweep: Sweep,
    *,
    owner: str,
    lease_seconds: float = 120.0,
    hold_seconds: float = 120.0,
    eval_examples: int = 50,
    limits: Limits | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> SweepStarted | None:
    """Finish the start of a sweep `owner` holds the lease of (bot/slack/sweeps.py claimed it)
    when `resume_due`: each planned variant without a job in the sweep (matched by its planned
    name) is started with `start_job`, as the sweep's owner in its channel, on its held-out
    split; then the sweep is "started". Every step is fenced by the sweep's lease (renewed
    before each variant): a process that lost the sweep starts nothing more. None when there
    was nothing to resume. The poller posts each new job's message, as for any job."""
    if not resume_due(sweep, clock()):
        return None
    assert sweep.id is not None
    have = Counter(job.display_name for job in await store.run(store.sweeps.variants, sweep.id))
    started = SweepStarted(sweep)
    for variant in plan_from_json(sweep.plan):
        name = variant.args.display_name or ""
        if have[name] > 0:
            have[name] -= 1
            continue
        if not await _renew_lease(store, sweep.id, owner, clock() + timedelta(seconds=lease_seconds)):
            log.info("sweep %s: taken over by another process while resuming its start", sweep.id)
            return started
        log.warning("sweep %s: its start was interrupted; starting variant %s", sweep.id, variant.label)
        await start_variant(
            store,
            backend,
            started,
            variant,
            hold_seconds=hold_seconds,
            eval_examples=eval_examples,
            limits=limits,
        )
    done = await store.run(
        store.sweeps.update_leased,
        sweep.id,
        owner,
        start_state=SWEEP_STARTED,
        start_expires_at=None,
        lease_expires_at=clock() + timedelta(seconds=lease_seconds),
    )
    if done:
        sweep.start_state, sweep.start_expires_at = SWEEP_STARTED, None
    return started


async def _renew_lease(store: Store, sweep_id: int, owner: str, until: datetime) -> bool:
    return bool(await store.run(store.sweeps.update_leased, sweep_id, owner, lease_expires_at=until))


@dataclass
class SweepCancel:
    """`/tune sweep cancel <id>`: "unknown" (no such sweep in the team), "refused" (neither its
    owner nor an admin) or "done", with the outcome of each variant's cancel."""

    kind: str
    sweep_id: int | None = None
    outcomes: list[CancelOutcome] = field(default_factory=list)

    @property
    def cancelled(self) -> list[TuningJob]:
        return [o.job for o in self.outcomes if o.kind == "cancelled" and o.job is not None]


async def cancel_sweep(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    sweep_id: int,
    admins: Collection[str],
    currency: str = "USD",
) -> SweepCancel:
    """Cancel every running variant of the sweep (each through `cancel_job`, with its claim and
    audit line); the variants that ended already are left as they are."""
    sweep = await store.run(store.sweeps.get, sweep_id)
    if sweep is None or sweep.team_id != team_id:
        return SweepCancel("unknown")
    if user_id != sweep.owner_user_id and user_id not in admins:
        return SweepCancel("refused", sweep_id)
    result = SweepCancel("done", sweep_id)
    for job in await store.run(store.sweeps.variants, sweep_id):
        if JobState(job.state).finished if job.state in set(JobState) else True:
            continue
        outcome = await cancel_job(
            store,
            backend,
            team_id=team_id,
            user_id=user_id,
            job_id=job.id,
            admins=set(admins) | {sweep.owner_user_id},
            currency=currency,
        )
        result.outcomes.append(outcome)
    return result
