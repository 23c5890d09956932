"""A sweep's leaderboard as data: each variant's settings, state, losses, held-out scores,
tokens and cost, the best by the sweep's `rank_by`, and whether the whole sweep has ended."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.states import EvalState
from bot.domain.sweeps import SWEEP_STARTING
from bot.domain.types import JobState
from bot.evaluation.report import EvalReport
from bot.services.sweeps import sweep_grid, variant_label
from bot.storage.models import Sweep, TuningJob
from bot.storage.store import Store

# A succeeded variant is settled once its evaluation report is stored (or skipped).
EVALUATION_SETTLED = frozenset(
    {EvalState.EVALUATED, EvalState.POSTING, EvalState.POSTED, EvalState.DONE, EvalState.SKIPPED}
)


@dataclass(frozen=True)
class VariantLine:
    job_id: int
    label: str  # its grid settings, e.g. `e2 lr×0.5`
    display_name: str
    state: str
    train_loss: float | None
    eval_loss: float | None
    exact: float | None  # held-out exact match of the tuned model, 0..1
    similarity: float | None
    win_rate: float | None  # against the base model, 0..1 (None: no judge)
    tokens: int | None
    cost: float | None
    currency: str | None
    settled: bool  # finished, and (if it succeeded) evaluated


@dataclass(frozen=True)
class SweepBoard:
    sweep_id: int
    dataset: str
    rank_by: str
    variants: tuple[VariantLine, ...]
    best: int | None  # the job id of the best variant so far (None: no scores yet)
    starting: bool = False  # some variants may not be started yet (the sweep is "starting")

    @property
    def ended(self) -> bool:
        return not self.starting and bool(self.variants) and all(v.settled for v in self.variants)


def metric(line: VariantLine, rank_by: str) -> float | None:
    """The variant's score by `rank_by`, larger is better (eval loss negated)."""
    if rank_by == "eval_loss":
        return None if line.eval_loss is None else -line.eval_loss
    value = {"win_rate": line.win_rate, "exact": line.exact, "similarity": line.similarity}.get(rank_by)
    return value


def best_variant(variants: tuple[VariantLine, ...], rank_by: str) -> int | None:
    """The succeeded variant with the best score (the first started on a tie)."""
    scored = [
        (score, -line.job_id, line.job_id)
        for line in variants
        if line.state == JobState.SUCCEEDED and (score := metric(line, rank_by)) is not None
    ]
    return max(scored)[2] if scored else None


def variant_line(job: TuningJob, label: str, raw_report: str | None) -> VariantLine:
    """One variant's row from its job and its stored evaluation report (if any)."""
    assert job.id is not None
    report = EvalReport.from_json(raw_report) if raw_report else None
    succeeded = job.state == JobState.SUCCEEDED
    finished = JobState(job.state).finished if job.state in set(JobState) else False
    return VariantLine(
        job_id=job.id,
        label=label,
        display_name=job.display_name,
        state=job.state,
        train_loss=job.mean_loss,
        eval_loss=job.eval_loss,
        exact=report.tuned_exact_rate if report is not None and report.rows else None,
        similarity=report.tuned_mean_similarity if report is not None and report.rows else None,
        win_rate=report.win_rate if report is not None else None,
        tokens=job.counted_tokens if job.counted_tokens is not None else job.estimated_tokens,
        cost=job.counted_cost if job.counted_cost is not None else job.estimated_cost,
        currency=job.cost_currency,
        settled=finished and (not succeeded or job.eval_state in EVALUATION_SETTLED),
    )


def variant_settings(sweep: Sweep, job: TuningJob) -> tuple[tuple[str, str], ...] | None:
    """The grid values (option, value as typed) the variant `job` of `sweep` was started with,
    found by the settings its name ends with; None when its name no longer says them."""
    for settings in _combinations(sweep_grid(sweep)):
        if job.display_name.endswith(" " + variant_label(settings)):
            return settings
    return None


def board_of(sweep: Sweep, jobs: Sequence[TuningJob], reports: Mapping[int, str]) -> SweepBoard:
    """The leaderboard of `sweep` from its jobs (in the order they started) and their reports."""
    assert sweep.id is not None
    lines = []
    for job in jobs:
        settings = variant_settings(sweep, job)
        label = variant_label(settings) if settings is not None else job.display_name
        lines.append(variant_line(job, label, reports.get(job.id or 0)))
    variants = tuple(lines)
    return SweepBoard(
        sweep.id,
        sweep.dataset_name,
        sweep.rank_by,
        variants,
        best_variant(variants, sweep.rank_by),
        starting=sweep.start_state == SWEEP_STARTING,
    )


def sweep_board(store: Store, sweep: Sweep) -> SweepBoard:
    """The leaderboard of `sweep` from the database (blocking; call through `Store.run`)."""
    assert sweep.id is not None
    jobs = store.sweeps.variants(sweep.id)
    return board_of(sweep, jobs, store.evaluations.reports(j.id for j in jobs if j.id is not None))


def _combinations(grid: dict[str, list[str]]) -> list[tuple[tuple[str, str], ...]]:
    keys = list(grid)
    return [tuple(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]
