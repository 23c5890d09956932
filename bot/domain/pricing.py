"""The operator's training prices: which configured price applies to a base model."""

from __future__ import annotations

from collections.abc import Mapping


def price_for(prices: Mapping[str, float], base_model: str) -> float | None:
    """The configured price per 1M training tokens for `base_model` (with or without `models/`)."""
    short = base_model.removeprefix("models/").rsplit("/", 1)[-1]
    for key in (base_model, short, f"models/{short}"):
        if key in prices:
            return prices[key]
    return None
