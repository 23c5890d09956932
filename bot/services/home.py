"""What a person's App Home tab shows: their datasets, running jobs and models, and the team's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.types import JobState
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


def load_home(store: Store, team_id: str, user_id: str) -> HomeData:
    jobs = store.jobs.team_models(team_id)
    finished = [j for j in jobs if j.state == JobState.SUCCEEDED.value]
    return HomeData(
        user_id=user_id,
        datasets=store.datasets.list_for_owner(team_id, user_id),
        running=[j for j in jobs if j.owner_user_id == user_id and j.state in ACTIVE_STATES],
        mine=[j for j in finished if j.owner_user_id == user_id],
        others=[j for j in finished if j.owner_user_id != user_id],
    )
