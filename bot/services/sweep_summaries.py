"""The team's recent sweeps as App Home shows them, and the sweep note beside each model that
came from one. Three queries in all (the sweeps, their variants, the variants' reports)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.types import JobState
from bot.services.sweep_board import VariantLine, board_of, variant_settings
from bot.storage.models import Sweep, TuningJob
from bot.storage.store import Store

HOME_SWEEPS = 5  # how many of the team's sweeps App Home lists


@dataclass(frozen=True)
class SweepSummary:
    """One sweep in App Home: its variants counted by state and its leader (None: no scores yet)."""

    sweep_id: int
    dataset: str
    rank_by: str
    owner_user_id: str
    channel_id: str
    posted: bool  # its leaderboard message is in `channel_id`
    created_at: datetime
    variants: int
    running: int
    succeeded: int
    failed: int  # failed or lost
    cancelled: int
    leader: VariantLine | None
    ended: bool


@dataclass(frozen=True)
class SweepNote:
    """What is said beside a model that came from a sweep: `variant 2 of 4 in sweep #3 (…)`."""

    sweep_id: int
    number: int  # 1-based, in the order the variants started
    of: int
    settings: tuple[tuple[str, str], ...]  # (option, value as typed); empty when unknown


def _counts(jobs: Sequence[TuningJob]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for job in jobs:
        state = JobState(job.state) if job.state in set(JobState) else JobState.LOST
        if not state.finished:
            counted["running"] += 1
        elif state == JobState.LOST:
            counted[JobState.FAILED] += 1
        else:
            counted[state] += 1
    return counted


def _summary(sweep: Sweep, jobs: Sequence[TuningJob], reports: dict[int, str]) -> SweepSummary:
    assert sweep.id is not None
    board = board_of(sweep, jobs, reports)
    counts = _counts(jobs)
    leader = next((line for line in board.variants if line.job_id == board.best), None)
    return SweepSummary(
        sweep_id=sweep.id,
        dataset=sweep.dataset_name,
        rank_by=sweep.rank_by,
        owner_user_id=sweep.owner_user_id,
        channel_id=sweep.channel_id,
        posted=sweep.message_ts is not None,
        created_at=sweep.created_at,
        variants=len(jobs),
        running=counts["running"],
        succeeded=counts[JobState.SUCCEEDED],
        failed=counts[JobState.FAILED],
        cancelled=counts[JobState.CANCELLED],
        leader=leader,
        ended=board.ended,
    )


def recent_sweeps(store: Store, team_id: str, limit: int = HOME_SWEEPS) -> list[SweepSummary]:
    """The team's `limit` newest sweeps, those still running first, then newest first."""
    sweeps = store.sweeps.recent(team_id, limit)
    jobs = store.sweeps.variants_of(s.id for s in sweeps if s.id is not None)
    reports = store.evaluations.reports(j.id for j in jobs if j.id is not None)
    by_sweep: dict[int, list[TuningJob]] = defaultdict(list)
    for job in jobs:
        by_sweep[job.sweep_id or 0].append(job)
    summaries = [_summary(s, by_sweep.get(s.id or 0, []), reports) for s in sweeps]
    return sorted(summaries, key=lambda s: (s.running == 0, -s.sweep_id))


def sweep_notes(store: Store, team_jobs: Iterable[TuningJob]) -> dict[str, SweepNote]:
    """Model name -> its sweep note, for the models among `team_jobs` that came from a sweep."""
    named = [j for j in team_jobs if j.model_name and j.sweep_id is not None]
    wanted = {j.sweep_id for j in named if j.sweep_id is not None}
    if not wanted:
        return {}
    sweeps = {s.id: s for s in store.sweeps.many(wanted)}
    by_sweep: dict[int, list[TuningJob]] = defaultdict(list)
    for job in store.sweeps.variants_of(wanted):
        by_sweep[job.sweep_id or 0].append(job)
    notes: dict[str, SweepNote] = {}
    for job in named:
        sweep = sweeps.get(job.sweep_id)
        variants = by_sweep.get(job.sweep_id or 0, [])
        ids = [v.id for v in variants]
        if sweep is None or job.id not in ids or not job.model_name:
            continue
        settings = variant_settings(sweep, job) or ()
        notes.setdefault(job.model_name, SweepNote(sweep.id or 0, ids.index(job.id) + 1, len(ids), settings))
    return notes
