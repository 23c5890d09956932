"""Jobs with a cost, written straight into the database (the prices helper fills these columns
from Vertex; these tests set them), and the estimate a start on a dataset gets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.datasets.insight import DatasetInsight
from bot.storage.models import TuningJob, utcnow
from bot.storage.store import Store
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, store_of

# The Gemini API backend's default base model, priced so a start's estimate is its training
# tokens / 100 in USD, exactly (10,000 per 1M tokens).
PRICES = {"TUNEBOT_TRAINING_PRICES": "gemini-1.5-flash-001-tuning=10000"}


def add_job(
    store: Store,
    team_id: str,
    owner: str,
    *,
    channel: str = CHANNEL,
    counted: str | None = None,
    estimated: str | None = None,
    at: datetime | None = None,
    state: str = "succeeded",
    name: str = "earlier job",
    percent: float = 100.0,
    currency: str | None = "USD",
) -> TuningJob:
    return store.jobs.create(
        TuningJob(
            team_id=team_id,
            owner_user_id=owner,
            channel_id=channel,
            display_name=name,
            base_model="models/gemini-1.5-flash-001-tuning",
            model_name=f"tunedModels/{name.replace(' ', '-')}-{owner.lower()}",
            epoch_count=1,
            batch_size=1,
            learning_rate=0.001,
            state=state,
            percent=percent,
            counted_cost=float(counted) if counted is not None else None,
            estimated_cost=float(estimated) if estimated is not None else None,
            cost_currency=currency,
            created_at=at or utcnow(),
            notice_state="done",
            message_state="posted",
            eval_state="skipped",
        )
    )


def start_estimate(stack: OfflineStack, dataset: str, epochs: int = 1) -> Decimal:
    """What `/tune start <dataset> epochs=N` is estimated at with PRICES."""
    store = store_of(stack)
    found = store.datasets.by_name(stack.workspace.team_id, dataset)
    assert found is not None and found.id is not None
    insight = DatasetInsight.from_json(store.datasets.insight(found.id))
    assert insight is not None
    return Decimal(insight.total_tokens * epochs) / 100
