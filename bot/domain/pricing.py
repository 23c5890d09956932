"""What tuning costs: Vertex AI's prices per base model (a dated table shipped with tunebot,
`vertex_prices.json`, overridable by the operator's `TUNEBOT_TRAINING_PRICES`) and the one
computation of a job's cost, estimated before it runs or counted from Vertex's billable tokens.

How Vertex AI bills supervised tuning, as tunebot reads its pricing page:
- training: the tokens of the training dataset × the number of epochs, at the base model's
  price per 1M training tokens;
- the validation set: Vertex evaluates it during tuning (once per epoch, at each checkpoint),
  and those evaluations are billed as predictions: its tokens × epochs at the prediction
  *input* price (an evaluation reads the examples; it generates nothing that is kept);
- predictions of the tuned model: the base model's input and output prices.

Pure: no settings, no I/O beyond reading the packaged table once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

MILLION = Decimal(1_000_000)
OVERRIDE_SOURCE = "TUNEBOT_TRAINING_PRICES"


def model_keys(base_model: str) -> tuple[str, ...]:
    """The names a base model may be listed under: as given, short, and with `models/`."""
    short = base_model.removeprefix("models/").rsplit("/", 1)[-1]
    return (base_model, short, f"models/{short}")


def price_for(prices: Mapping[str, float], base_model: str) -> float | None:
    """The configured price per 1M training tokens for `base_model` (with or without `models/`)."""
    for key in model_keys(base_model):
        if key in prices:
            return prices[key]
    return None


@dataclass(frozen=True)
class Price:
    """The prices a job on one base model is charged, per 1M tokens, in `currency`.

    `source` is where the training price comes from: the table's URL, or
    `TUNEBOT_TRAINING_PRICES` when the operator's setting gave it; `read_on` the date the
    table was read (None for the setting); `checked` False when the table's training figure
    could not be confirmed from a stored source."""

    base_model: str
    training: Decimal | None
    prediction_input: Decimal | None
    prediction_output: Decimal | None
    currency: str
    source: str
    read_on: date | None = None
    checked: bool = True

    @property
    def overridden(self) -> bool:
        return self.source == OVERRIDE_SOURCE


@dataclass(frozen=True)
class PriceTable:
    """The packaged table: figures per base model, in `currency`, read on `read_on` at `source`."""

    currency: str
    read_on: date
    source: str
    note: str
    models: Mapping[str, Mapping[str, Any]]

    def get(self, base_model: str) -> Mapping[str, Any] | None:
        for key in model_keys(base_model):
            if key in self.models:
                return self.models[key]
        return None


@cache
def builtin_table() -> PriceTable:
    data = json.loads(resources.files("bot.domain").joinpath("vertex_prices.json").read_text("utf-8"))
    return PriceTable(
        currency=str(data["currency"]),
        read_on=date.fromisoformat(data["read_on"]),
        source=str(data["source"]),
        note=str(data["note"]),
        models=data["models"],
    )


def _figure(entry: Mapping[str, Any] | None, kind: str) -> tuple[Decimal | None, bool]:
    figure = (entry or {}).get(kind)
    if not figure or figure.get("price") is None:
        return None, True
    return Decimal(str(figure["price"])), bool(figure.get("checked", False))


def price_of(
    base_model: str,
    overrides: Mapping[str, float] | None = None,
    currency: str = "USD",
    table: PriceTable | None = None,
    *,
    vertex: bool = True,
) -> Price | None:
    """The prices for `base_model`: the operator's training price (`overrides`, in
    `currency`) wins over the table's; the table's figures count only when the operator's
    currency is the table's (tunebot converts no currency). None: no training price at all,
    so no estimate (shown as unknown, never as zero). The table holds Vertex AI's prices:
    for another service (`vertex` False) only the operator's setting prices a job."""
    table = table or builtin_table()
    override = price_for(overrides or {}, base_model)
    entry = table.get(base_model) if vertex and currency.upper() == table.currency else None
    training, checked = _figure(entry, "training")
    prediction_input, _ = _figure(entry, "prediction_input")
    prediction_output, _ = _figure(entry, "prediction_output")
    if override is not None:
        return Price(
            base_model, Decimal(str(override)), prediction_input, prediction_output, currency, OVERRIDE_SOURCE
        )
    if training is None:
        return None
    return Price(
        base_model,
        training,
        prediction_input,
        prediction_output,
        table.currency,
        table.source,
        table.read_on,
        checked,
    )


@dataclass(frozen=True)
class CostBasis:
    """What a job's cost is computed from, before the epochs are known: the training tokens
    of one epoch, the validation set's tokens (one evaluation pass) and the price (None:
    no price for the base model)."""

    base_model: str
    training_tokens: int
    validation_tokens: int
    price: Price | None
    currency: str


@dataclass(frozen=True)
class CostEstimate:
    """A job's cost: `kind` "estimated" (from tunebot's token estimate) or "counted" (from the
    billable tokens Vertex AI reports).

    `epochs` None: Vertex AI picks the number and has not said it yet; then `tokens` and
    `amount` are None and `per_epoch_tokens` / `per_epoch_amount` give one epoch's share.
    `amount` None with `price` None: no price for the base model (unknown, not zero).
    `validation_amount` None while the validation set is not priced (no prediction price)."""

    kind: Literal["estimated", "counted"]
    base_model: str
    epochs: int | None
    training_tokens_per_epoch: int
    validation_tokens_per_pass: int
    currency: str
    price: Price | None

    @property
    def per_epoch_tokens(self) -> int:
        return self.training_tokens_per_epoch + self.validation_tokens_per_pass

    @property
    def training_tokens(self) -> int | None:
        return None if self.epochs is None else self.training_tokens_per_epoch * self.epochs

    @property
    def validation_tokens(self) -> int | None:
        return None if self.epochs is None else self.validation_tokens_per_pass * self.epochs

    @property
    def tokens(self) -> int | None:
        """Every billed token: training × epochs plus the validation set × epochs."""
        return None if self.epochs is None else self.per_epoch_tokens * self.epochs

    def _training_cost(self, tokens: int) -> Decimal | None:
        if self.price is None or self.price.training is None:
            return None
        return tokens * self.price.training / MILLION

    def _validation_cost(self, tokens: int) -> Decimal | None:
        if tokens == 0:
            return Decimal(0)
        if self.price is None or self.price.prediction_input is None:
            return None
        return tokens * self.price.prediction_input / MILLION

    @property
    def per_epoch_amount(self) -> Decimal | None:
        training = self._training_cost(self.training_tokens_per_epoch)
        if training is None:
            return None
        return training + (self._validation_cost(self.validation_tokens_per_pass) or Decimal(0))

    @property
    def training_amount(self) -> Decimal | None:
        tokens = self.training_tokens
        return None if tokens is None else self._training_cost(tokens)

    @property
    def validation_amount(self) -> Decimal | None:
        tokens = self.validation_tokens
        return None if tokens is None else self._validation_cost(tokens)

    @property
    def validation_priced(self) -> bool:
        return self._validation_cost(self.validation_tokens_per_pass) is not None

    @property
    def amount(self) -> Decimal | None:
        """The cost in `currency` (training, plus the validation set when it is priced)."""
        if self.epochs is None:
            return None
        per_epoch = self.per_epoch_amount
        return None if per_epoch is None else per_epoch * self.epochs

    @property
    def known(self) -> bool:
        return self.amount is not None


def estimate_cost(basis: CostBasis, epochs: int | None) -> CostEstimate:
    """The estimate of a start: `basis`'s tokens × `epochs` (None: Vertex picks them)."""
    return CostEstimate(
        "estimated",
        basis.base_model,
        epochs if epochs and epochs > 0 else None,
        max(basis.training_tokens, 0),
        max(basis.validation_tokens, 0),
        basis.price.currency if basis.price is not None else basis.currency,
        basis.price,
    )


def counted_cost(
    base_model: str, billable_tokens: int, epochs: int, price: Price | None, currency: str
) -> CostEstimate:
    """The cost counted from Vertex's `totalBillableTokenCount` (the training dataset's tokens,
    as it counts them) × `epochs`. Vertex reports no count for the validation set, so the
    count covers training only."""
    return CostEstimate(
        "counted",
        base_model,
        epochs if epochs > 0 else None,
        max(billable_tokens, 0),
        0,
        price.currency if price is not None else currency,
        price,
    )


def money(amount: Decimal | None) -> float | None:
    """An amount as stored in the database (float columns), rounded to 1/10,000 of the unit."""
    if amount is None:
        return None
    return float(amount.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))
