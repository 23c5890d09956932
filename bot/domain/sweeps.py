"""`/tune sweep`: what a sweep asks for (pure data)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from bot.domain.approvals import start_args_from_dict, start_args_to_dict
from bot.domain.pricing import CostEstimate, Price
from bot.domain.requests import StartArgs

# The options a sweep varies (comma-separated values), in the order a variant names them.
SWEEP_KEYS = ("base_model", "epochs", "learning_rate_multiplier", "adapter_size")
# What a sweep ranks its variants by; the first is the default.
RANK_BY = ("win_rate", "eval_loss", "exact", "similarity")
DEFAULT_SWEEP_MAX = 8


@dataclass(frozen=True)
class SweepArgs:
    """A parsed `/tune sweep`: the dataset, the grid (option -> its values, as typed), the
    metric it ranks by, and one start per combination (all with the same validation)."""

    dataset: str
    grid: tuple[tuple[str, tuple[str, ...]], ...]
    rank_by: str
    starts: tuple[StartArgs, ...]
    settings: tuple[tuple[tuple[str, str], ...], ...]  # each start's grid values, as typed


# ------------------------------------------------------------------ the sweep's plan
# What `start_job` needs to start each variant, written on the sweep row before the first
# starts, so that a sweep whose starting process died is resumed with the missing variants.

SWEEP_STARTING = "starting"  # some variants may not have been handed to `start_job` yet
SWEEP_STARTED = "started"  # every variant was handed to `start_job` (or there was no plan)


@dataclass(frozen=True)
class PlannedVariant:
    """One variant as it will start: its start (named), its settings label and its estimate."""

    args: StartArgs
    label: str
    cost: CostEstimate | None = None


def price_to_dict(price: Price) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return str(value) if value is not None else None

    return {
        "base_model": price.base_model,
        "training": text(price.training),
        "prediction_input": text(price.prediction_input),
        "prediction_output": text(price.prediction_output),
        "currency": price.currency,
        "source": price.source,
        "read_on": price.read_on.isoformat() if price.read_on is not None else None,
        "checked": price.checked,
    }


def price_from_dict(data: dict[str, Any]) -> Price:
    def number(key: str) -> Decimal | None:
        return Decimal(data[key]) if data.get(key) is not None else None

    return Price(
        base_model=str(data["base_model"]),
        training=number("training"),
        prediction_input=number("prediction_input"),
        prediction_output=number("prediction_output"),
        currency=str(data["currency"]),
        source=str(data["source"]),
        read_on=date.fromisoformat(data["read_on"]) if data.get("read_on") else None,
        checked=bool(data.get("checked", True)),
    )


def cost_to_dict(cost: CostEstimate) -> dict[str, Any]:
    return {
        "kind": cost.kind,
        "base_model": cost.base_model,
        "epochs": cost.epochs,
        "training_tokens_per_epoch": cost.training_tokens_per_epoch,
        "validation_tokens_per_pass": cost.validation_tokens_per_pass,
        "currency": cost.currency,
        "price": price_to_dict(cost.price) if cost.price is not None else None,
    }


def cost_from_dict(data: dict[str, Any]) -> CostEstimate:
    return CostEstimate(
        "counted" if data["kind"] == "counted" else "estimated",
        str(data["base_model"]),
        int(data["epochs"]) if data.get("epochs") is not None else None,
        int(data["training_tokens_per_epoch"]),
        int(data["validation_tokens_per_pass"]),
        str(data["currency"]),
        price_from_dict(data["price"]) if data.get("price") is not None else None,
    )


def plan_to_json(variants: Sequence[PlannedVariant]) -> str:
    return json.dumps(
        [
            {
                "args": start_args_to_dict(variant.args),
                "label": variant.label,
                "cost": cost_to_dict(variant.cost) if variant.cost is not None else None,
            }
            for variant in variants
        ],
        sort_keys=True,
        ensure_ascii=False,
    )


def plan_from_json(text: str | None) -> list[PlannedVariant]:
    """The planned variants (none for a sweep recorded without a plan)."""
    if not text:
        return []
    return [
        PlannedVariant(
            args=start_args_from_dict(item["args"]),
            label=str(item.get("label") or ""),
            cost=cost_from_dict(item["cost"]) if item.get("cost") is not None else None,
        )
        for item in json.loads(text)
    ]
