"""The cost estimate of a start, priced with the operator's settings and tunebot's price
table (for `/tune start`, the start form and the job row)."""

from __future__ import annotations

from bot.domain.requests import ValidationChoice
from bot.services.datasets import StartEstimate, estimate_start
from bot.slack.context import AppContext
from bot.storage.models import Dataset


async def start_estimate(
    ctx: AppContext,
    dataset: Dataset,
    *,
    epochs: int | None,
    base_model: str,
    validation: ValidationChoice | None,
) -> StartEstimate:
    return await ctx.store.run(
        estimate_start,
        ctx.store,
        dataset,
        epochs=epochs,
        base_model=base_model,
        prices=ctx.settings.training_prices,
        currency=ctx.settings.price_currency,
        validation=validation,
        validation_sent=ctx.backend.supports_validation,
        vertex=ctx.backend.name == "vertex",
    )
