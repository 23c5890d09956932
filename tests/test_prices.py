"""Prices out of the box (issue #22): Vertex AI's dated price table shipped with tunebot, the
operator's TUNEBOT_TRAINING_PRICES winning over it, no estimate (never a zero one) for a model
priced by neither, and amounts in the operator's currency (yen without decimals)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.backends.vertex_models import DEFAULT_BASE_MODEL
from bot.config import Settings
from bot.domain.pricing import OVERRIDE_SOURCE, CostBasis, builtin_table, estimate_cost, price_of
from bot.presentation.costs import estimate_text, price_basis_text
from bot.presentation.text import format_money

VERTEX_MODELS = ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite")


def test_the_table_is_dated_sourced_and_prices_every_vertex_base_model() -> None:
    table = builtin_table()
    assert table.currency == "USD" and table.read_on == date(2026, 12, 3)
    assert table.source.startswith("https://cloud.google.com/vertex-ai/generative-ai/pricing")
    assert "could NOT be confirmed" in table.note  # what was not checked says so
    for model in VERTEX_MODELS:
        entry = table.get(f"models/{model}")
        assert entry is not None, model
        for kind in ("training", "prediction_input", "prediction_output"):
            figure = entry[kind]
            assert Decimal(figure["price"]) > 0 and figure["source"].startswith("https://")
            assert isinstance(figure["checked"], bool)
        price = price_of(model)
        assert price is not None and price.training is not None and price.read_on == table.read_on
        assert price.prediction_input is not None and price.prediction_output is not None
        assert price.prediction_input < price.prediction_output  # input is the cheaper side
    assert price_of(DEFAULT_BASE_MODEL) is not None


def test_the_setting_wins_over_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNEBOT_TRAINING_PRICES", "gemini-2.5-flash=2.75")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    price = price_of("models/gemini-2.5-flash", settings.training_prices, settings.price_currency)
    assert price is not None and price.training == Decimal("2.75") and price.source == OVERRIDE_SOURCE
    assert price.overridden and price.read_on is None
    # the table still prices the validation set's evaluations (same currency)
    assert price.prediction_input == Decimal("0.30")
    shown = price_basis_text(price)
    assert shown == "the configured USD 2.75 per 1M training tokens for `gemini-2.5-flash`"
    other = price_of("gemini-2.5-pro", settings.training_prices, settings.price_currency)
    assert other is not None and other.source == builtin_table().source  # the rest from the table
    assert "tunebot's price table of 2026-12-03" in price_basis_text(other)


def test_a_model_priced_by_neither_has_no_estimate_never_a_zero_one() -> None:
    assert price_of("gemini-9-ultra") is None
    assert price_of("models/gemini-1.5-flash-001-tuning", {"other": 1.0}) is None
    cost = estimate_cost(CostBasis("gemini-9-ultra", 10_000, 1_000, None, "USD"), 3)
    assert cost.amount is None and not cost.known and cost.tokens == 33_000
    text = estimate_text(cost)
    assert "cost unknown: no price for `gemini-9-ultra`" in text and "TUNEBOT_TRAINING_PRICES" in text
    assert "USD" not in text and "0.00" not in text


def test_the_table_prices_vertex_jobs_in_its_own_currency_only() -> None:
    # tunebot converts no currency: in EUR only the operator's setting prices a job
    assert price_of("gemini-2.5-flash", {}, "EUR") is None
    eur = price_of("gemini-2.5-flash", {"gemini-2.5-flash": 4.6}, "EUR")
    assert eur is not None and eur.currency == "EUR" and eur.prediction_input is None
    # the Gemini API is not Vertex AI: the table does not price its jobs
    assert price_of("models/gemini-2.5-flash", vertex=False) is None
    assert price_of("models/gemini-2.5-flash", {"gemini-2.5-flash": 1.0}, vertex=False) is not None


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1234.5, "USD", "USD 1,234.50"),
        (Decimal("0.125"), "USD", "USD 0.13"),
        (0.004, "USD", "USD 0.0040"),  # below a cent: not read as zero
        (0, "USD", "USD 0.00"),
        (98765.432, "EUR", "EUR 98,765.43"),
        (1234.5, "JPY", "JPY 1,235"),  # no minor unit: no decimals
        (Decimal("1500000"), "JPY", "JPY 1,500,000"),
        (0.4, "JPY", "JPY 0.40"),  # below one yen: still not zero
        (12, "KRW", "KRW 12"),
        (float("nan"), "USD", "USD ?"),
    ],
)
def test_money_in_the_operators_currency(amount: float | Decimal, currency: str, shown: str) -> None:
    assert format_money(amount, currency) == shown


def test_a_yen_estimate_has_no_decimals() -> None:
    price = price_of("gemini-2.5-flash", {"gemini-2.5-flash": 750}, "JPY")
    cost = estimate_cost(CostBasis("gemini-2.5-flash", 1_000_000, 0, price, "JPY"), 2)
    assert cost.amount == Decimal(1500)
    assert "≈ JPY 1,500 at the configured JPY 750 per 1M training tokens" in estimate_text(cost)
