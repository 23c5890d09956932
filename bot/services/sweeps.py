"""`/tune sweep`: every combination of a grid started as a normal job, all holding out the
same examples (one split seed per sweep), recorded as one `sweep` row."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from bot.backends.backend import TuningBackend
from bot.datasets.core import Limits
from bot.domain.errors import BackendError, UserError
from bot.domain.pricing import CostEstimate
from bot.domain.requests import StartArgs
from bot.domain.sweeps import SweepArgs
from bot.domain.types import JobState
from bot.services.cancel import CancelOutcome, cancel_job
from bot.services.errors import ServiceError
from bot.services.jobs import check_start, start_job
from bot.storage.models import Dataset, Sweep, TuningJob
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
    store: Store, team_id: str, user_id: str, channel_id: str, args: SweepArgs, dataset: Dataset
) -> Sweep:
    """The sweep's row (before its variants start, or wait for approval)."""
    return store.sweeps.create(
        Sweep(
            team_id=team_id,
            owner_user_id=user_id,
            channel_id=channel_id,
            dataset_id=dataset.id,
            dataset_name=dataset.display_name[:200],
            grid=json.dumps({key: list(values) for key, values in args.grid}),
            rank_by=args.rank_by,
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
    """Record the sweep, then start each variant with `start_job` (one after another; a variant
    the service refuses is reported and the others still start)."""
    sweep = await store.run(record_sweep, store, team_id, user_id, channel_id, args, dataset)
    assert sweep.id is not None
    started = SweepStarted(sweep)
    for number, (named, settings) in enumerate(zip(named_starts(args, dataset), args.settings, strict=True)):
        try:
            job = await start_job(
                store,
                backend,
                team_id=team_id,
                user_id=user_id,
                channel_id=channel_id,
                args=named,
                hold_seconds=hold_seconds,
                eval_examples=eval_examples,
                limits=limits,
                cost=costs[number] if costs else None,
                holdout_seed=holdout_seed(sweep.id),
                sweep_id=sweep.id,
            )
        except (ServiceError, UserError, BackendError) as exc:
            log.warning("sweep %s: variant %s was not started: %s", sweep.id, variant_label(settings), exc)
            started.refused.append((variant_label(settings), exc))
            continue
        started.jobs.append(job)
    if not started.jobs:
        await store.run(store.sweeps.delete, sweep.id)
    return started


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
