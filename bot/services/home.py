"""What a person's App Home tab shows: their datasets, running jobs and models, and the team's
models, sweeps and aliases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.domain.types import JobState
from bot.services.aliases import AliasInfo, team_aliases
from bot.services.lineage_notes import LineageNote, model_lineage
from bot.services.sweep_summaries import SweepSummary, recent_sweeps
from bot.storage.models import TuningJob
from bot.storage.repositories.datasets import DatasetSummary
from bot.storage.repositories.jobs import ACTIVE_STATES
from bot.storage.store import Store


@dataclass(frozen=True)
class HomeData:
    user_id: str
    datasets: Sequence[DatasetSummary]
    running: Sequence[TuningJob]
    mine: Sequence[TuningJob]
    others: Sequence[TuningJob]
    aliases: Sequence[AliasInfo] = ()
    notes: Mapping[str, LineageNote] = field(default_factory=dict)  # by model name
    sweeps: Sequence[SweepSummary] = ()  # the team's recent sweeps, running ones first


def load_home(store: Store, team_id: str, user_id: str) -> HomeData:
    jobs = store.jobs.team_models(team_id)
    finished = [j for j in jobs if j.state == JobState.SUCCEEDED.value]
    return HomeData(
        user_id=user_id,
        datasets=store.datasets.list_for_owner(team_id, user_id),
        running=[j for j in jobs if j.owner_user_id == user_id and j.state in ACTIVE_STATES],
        mine=[j for j in finished if j.owner_user_id == user_id],
        others=[j for j in finished if j.owner_user_id != user_id],
        aliases=team_aliases(store, team_id),
        notes=model_lineage(store, team_id),
        sweeps=recent_sweeps(store, team_id),
    )
