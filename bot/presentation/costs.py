"""Slack mrkdwn for what a job costs (bot.domain.pricing): the estimate of a start (the
`/tune start` ack, the start form, the note after a form start) and the estimated or
counted cost on the job message. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.domain.pricing import CostEstimate, Price
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.text import format_money

PRICES_SETTING = "TUNEBOT_TRAINING_PRICES"
# The start form's fields the estimate depends on, and the block that shows it.
ESTIMATE_FIELDS = ("dataset", "epochs", "validation", "base_model")
START_ESTIMATE_BLOCK = "start_estimate"
START_ESTIMATE_PROMPT = "_Choose a dataset: what the start costs shows here (press Enter after typing)._"


def _epochs(count: int) -> str:
    return f"{count} {'epoch' if count == 1 else 'epochs'}"


def price_basis_text(price: Price, *, validation: bool = False) -> str:
    """`USD 5.00 per 1M training tokens (Vertex AI's list price for `model` in tunebot's price
    table of 2026-12-03, not confirmed)`, or `the configured …` for the operator's setting;
    with `validation`, the prediction input price the validation set is billed at as well."""
    training = f"{format_money(price.training or Decimal(0), price.currency)} per 1M training tokens"
    if validation and price.prediction_input is not None:
        evaluations = format_money(price.prediction_input, price.currency)
        training += f" and {evaluations} per 1M tokens evaluated"
    model = esc(price.base_model.removeprefix("models/"))
    if price.overridden:
        return f"the configured {training} for `{model}`"
    read = f" of {price.read_on.isoformat()}" if price.read_on else ""
    checked = "" if price.checked else f"; training price not confirmed, set {PRICES_SETTING} to be sure"
    return f"{training}: Vertex AI's list price for `{model}` (tunebot's price table{read}{checked})"


def unknown_cost_text(base_model: str) -> str:
    model = esc(base_model.removeprefix("models/"))
    return f"cost unknown: no price for `{model}` (an admin can set one with {PRICES_SETTING})"


def estimate_text(cost: CostEstimate, *, share: float = 1.0, validation_name: str | None = None) -> str:
    """The estimate of a start: `≈ N training tokens (T tokens × E epochs; an estimate)`, the
    validation set's evaluations, and the cost, or per epoch when Vertex picks the epochs."""
    part = f"{share:.0%} of the dataset, " if share < 1 else ""
    per_epoch = cost.training_tokens_per_epoch
    if cost.epochs is None:
        text = (
            f"≈ {per_epoch:,} training tokens per epoch ({part}an estimate; Vertex chooses the number "
            "of epochs for the dataset size)"
        )
    else:
        text = (
            f"≈ {per_epoch * cost.epochs:,} training tokens ({part}{per_epoch:,} tokens × "
            f"{_epochs(cost.epochs)}; an estimate)"
        )
    held = cost.validation_tokens_per_pass
    if held:
        source = f"validation set *{esc(validation_name)}*" if validation_name else "validation set"
        times = "each epoch" if cost.epochs is None else f"× {_epochs(cost.epochs)}"
        text += f" + ≈ {held:,} tokens of the {source} evaluated {times}"
    if cost.price is None or cost.price.training is None:
        return f"{text}; {unknown_cost_text(cost.base_model)}"
    if cost.epochs is None:
        amount = cost.per_epoch_amount
        shown = f"≈ {format_money(amount or Decimal(0), cost.currency)} per epoch (epochs chosen by Vertex)"
    else:
        shown = f"≈ {format_money(cost.amount or Decimal(0), cost.currency)}"
    unpriced = "" if cost.validation_priced else " (the validation set's evaluations not priced)"
    return f"{text}, {shown}{unpriced} at {price_basis_text(cost.price, validation=bool(held))}"


def counted_cost_text(cost: CostEstimate) -> str | None:
    """On the job message once Vertex has counted the tokens: `counted cost *USD 1.23*`, per
    epoch while Vertex has not said how many it chose; `cost unknown` without a price."""
    if cost.price is None or cost.price.training is None:
        return unknown_cost_text(cost.base_model)
    if cost.amount is None or cost.epochs is None:
        per_epoch = cost.per_epoch_amount
        if per_epoch is None:
            return None
        return (
            f"counted cost *{format_money(per_epoch, cost.currency)} per epoch* from Vertex's billable "
            f"tokens (epochs chosen by Vertex, not said yet) at {price_basis_text(cost.price)}"
        )
    return (
        f"counted cost *{format_money(cost.amount, cost.currency)}* from Vertex's billable tokens × "
        f"{_epochs(cost.epochs)} at {price_basis_text(cost.price)}"
    )


def stored_estimate_text(tokens: int | None, amount: float | None, currency: str | None) -> str | None:
    """On the job message before Vertex's count: the estimate stored when the job started."""
    if amount is None or not currency:
        return None
    counted = f"≈ {tokens:,} tokens, " if tokens else ""
    return f":moneybag: Estimated cost *{format_money(amount, currency)}* ({counted}estimated at the start)"


def start_estimate_block(estimate: str) -> dict[str, Any]:
    """The start form's estimate: mrkdwn from `estimate_text` (escaped there)."""
    return {
        "type": "context",
        "block_id": START_ESTIMATE_BLOCK,
        "elements": [{"type": "mrkdwn", "text": (estimate or START_ESTIMATE_PROMPT)[:3000]}],
    }


def with_start_estimate(view: Mapping[str, Any], estimate: str) -> dict[str, Any]:
    """The start form as Slack sent it back, for `views.update`, with a new estimate (the
    fields keep what the user entered: their block and action ids are unchanged)."""
    kept = ("type", "callback_id", "private_metadata", "title", "submit", "close")
    updated: dict[str, Any] = {key: view[key] for key in kept if view.get(key) is not None}
    blocks = [b for b in view.get("blocks") or [] if b.get("block_id") != START_ESTIMATE_BLOCK]
    updated["blocks"] = [*blocks, start_estimate_block(estimate)]
    return updated
