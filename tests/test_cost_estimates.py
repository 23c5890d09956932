"""What a start costs (issue #22): training tokens × epochs plus the validation set's
evaluations, priced once (bot.domain.pricing), shown in the `/tune start` ack, the start form
(following its fields) and the job message, stored on the job and in the audit log; and the
estimate turning into the cost counted from Vertex AI's billable tokens."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.datasets.insight import DatasetInsight
from bot.domain.audit import AuditAction
from bot.domain.pricing import CostBasis, counted_cost, estimate_cost, money, price_of
from bot.domain.types import DataStats
from bot.polling.schedule import counted_changes
from bot.presentation.costs import START_ESTIMATE_BLOCK, estimate_text
from bot.presentation.text import format_money
from bot.storage.models import TuningJob
from standins.fakeslack import View
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    eventually,
    open_start_form,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)

NUMBERS = ("text_input,output\n" + "".join(f"{n},{n + 1}\n" for n in range(1, 41))).encode()
FLASH = price_of("gemini-2.5-flash")  # the table's: USD 5 per 1M training tokens, USD 0.30 input


def test_training_times_epochs_plus_the_validation_set_evaluated_each_epoch() -> None:
    assert FLASH is not None and FLASH.training == Decimal(5) and FLASH.prediction_input == Decimal("0.30")
    cost = estimate_cost(CostBasis("gemini-2.5-flash", 200_000, 20_000, FLASH, "USD"), 3)
    assert cost.kind == "estimated" and cost.epochs == 3
    assert (cost.training_tokens, cost.validation_tokens, cost.tokens) == (600_000, 60_000, 660_000)
    assert cost.training_amount == Decimal("3")  # 600,000 × 5 / 1M
    assert cost.validation_amount == Decimal("0.018")  # 60,000 × 0.30 / 1M
    assert cost.amount == Decimal("3.018") and money(cost.amount) == 3.018 and cost.currency == "USD"
    assert cost.price is FLASH and cost.price.read_on is not None and cost.price.source.startswith("https://")
    text = estimate_text(cost, share=0.9)
    assert "≈ 600,000 training tokens (90% of the dataset, 200,000 tokens × 3 epochs; an estimate)" in text
    assert "+ ≈ 20,000 tokens of the validation set evaluated × 3 epochs, ≈ USD 3.02 at USD 5.00" in text
    assert "and USD 0.30 per 1M tokens evaluated" in text and "training price not confirmed" in text


def test_epochs_chosen_by_vertex_show_a_cost_per_epoch() -> None:
    cost = estimate_cost(CostBasis("gemini-2.5-flash", 200_000, 20_000, FLASH, "USD"), None)
    assert cost.epochs is None and cost.tokens is None and cost.amount is None
    assert cost.per_epoch_tokens == 220_000 and cost.per_epoch_amount == Decimal("1.006")
    text = estimate_text(cost)
    assert "≈ 200,000 training tokens per epoch (an estimate; Vertex chooses the number of epochs" in text
    assert "evaluated each epoch" in text and "≈ USD 1.01 per epoch (epochs chosen by Vertex)" in text


def test_a_validation_set_without_a_prediction_price_is_left_out_and_said_so() -> None:
    price = price_of("gemini-2.5-flash", {"gemini-2.5-flash": 4}, "EUR")  # no table in EUR
    cost = estimate_cost(CostBasis("gemini-2.5-flash", 1_000_000, 100_000, price, "EUR"), 2)
    assert cost.validation_amount is None and not cost.validation_priced
    assert cost.amount == Decimal(8) and cost.currency == "EUR"
    assert "≈ EUR 8.00 (the validation set's evaluations not priced)" in estimate_text(cost)
    # no validation set: nothing to price, nothing said
    alone = estimate_cost(CostBasis("gemini-2.5-flash", 1_000_000, 0, price, "EUR"), 2)
    assert alone.validation_priced and "validation" not in estimate_text(alone)


def test_the_count_is_vertexs_billable_tokens_times_epochs() -> None:
    cost = counted_cost("gemini-2.5-flash", 123_456, 3, FLASH, "USD")
    assert cost.kind == "counted" and cost.tokens == 370_368 and cost.amount == Decimal("1.85184")
    assert money(cost.amount) == 1.8518
    unpriced = counted_cost("gemini-9", 1_000, 2, None, "USD")
    assert unpriced.tokens == 2_000 and unpriced.amount is None


def test_the_poller_records_the_count_once_it_and_the_epochs_are_known() -> None:
    job = TuningJob(
        team_id="T",
        owner_user_id="U",
        channel_id="C",
        backend="vertex",
        display_name="n",
        base_model="gemini-2.5-flash",
        epoch_count=0,
        batch_size=0,
        learning_rate=0.0,
        estimated_tokens=None,
        estimated_cost=None,
    )
    stats = DataStats(examples=10, billable_tokens=100_000).to_json()
    assert counted_changes(job, {"data_stats": stats}, {}, "USD") == {}  # epochs not known yet
    changes = counted_changes(job, {"data_stats": stats, "epoch_count": 2}, {}, "USD")
    assert changes == {"counted_tokens": 200_000, "counted_cost": 1.0, "cost_currency": "USD"}
    job.counted_tokens, job.counted_cost, job.cost_currency = 200_000, 1.0, "USD"
    job.epoch_count, job.data_stats = 2, stats
    assert counted_changes(job, {}, {}, "USD") == {}  # written once
    # the operator's price wins here as well
    assert counted_changes(job, {}, {"gemini-2.5-flash": 10}, "USD") == {"counted_cost": 2.0}
    # no price: tokens counted, the cost unknown (None, not 0)
    job.base_model = "gemini-9"
    assert counted_changes(job, {}, {}, "USD") == {"counted_cost": None}


# Through the fake Slack, the bot and the Vertex AI emulator.


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def _insight(stack: OfflineStack, name: str = "numbers") -> DatasetInsight:
    store = store_of(stack)
    dataset = store.datasets.by_name(stack.workspace.team_id, name)
    assert dataset is not None and dataset.id is not None
    insight = DatasetInsight.from_json(store.datasets.insight(dataset.id))
    assert insight is not None
    return insight


async def _start(stack: OfflineStack, text: str) -> tuple[str, TuningJob]:
    assert stack.sender is not None
    ack = str(ack_body(await stack.sender.slash_command(OWNER, f"start {text}"))["text"])
    job = await eventually(
        lambda: next(
            (
                j
                for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)
                if j.message_ts and j.lease_owner is None
            ),
            None,
        )
    )
    return ack, job


def _job_text(stack: OfflineStack, job: TuningJob) -> str:
    [message] = [m for m in bot_posts(stack) if m.ts == job.message_ts]
    return all_text(message)


async def test_an_estimate_at_the_start_becomes_the_count_vertex_reports(stack: OfflineStack) -> None:
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    total = _insight(stack).total_tokens
    training = round(total * 0.8)
    held = total - training
    ack, job = await _start(stack, "numbers epochs=3 validation=20%")
    expected = (Decimal(training * 3 * 5) + Decimal(held * 3) * Decimal("0.30")) / 1_000_000

    # the ack: tokens × epochs, the validation set, the price and where it comes from
    assert f"≈ {training * 3:,} training tokens (80% of the dataset, {training:,} tokens × 3 epochs" in ack
    assert f"+ ≈ {held:,} tokens of the validation set evaluated × 3 epochs" in ack
    assert "USD 5.00 per 1M training tokens and USD 0.30 per 1M tokens evaluated" in ack
    assert "Vertex AI's list price for `gemini-2.5-flash` (tunebot's price table of 2026-12-03" in ack

    # the job row and the audit log
    assert job.estimated_tokens == total * 3 and job.cost_currency == "USD"
    assert job.estimated_cost == money(expected) and job.counted_tokens is None and job.counted_cost is None
    [entry] = store_of(stack).audit.entries(stack.workspace.team_id)
    assert entry.action == AuditAction.START and entry.actor_user_id == OWNER
    assert entry.subject == f"{job.display_name} (job {job.id})"
    assert entry.amount == job.estimated_cost and entry.currency == "USD"
    assert entry.details["base_model"] == "gemini-2.5-flash"
    assert entry.details["estimated_tokens"] == total * 3

    # the job message: estimated until Vertex has read the dataset…
    text = _job_text(stack, job)
    shown = format_money(money(expected) or 0, "USD")
    assert f"Estimated cost *{shown}* (≈ {total * 3:,} tokens, estimated at the start)" in text
    assert "counted cost" not in text

    # …then the cost counted from its billable tokens
    stack.emulator.advance(1.5)
    await stack.poll(all_due=True)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.data_stats is not None
    billable = DataStats.from_json(row.data_stats)
    assert billable is not None and billable.billable_tokens
    count = billable.billable_tokens * 3
    assert row.counted_tokens == count and row.counted_cost == money(Decimal(count * 5) / 1_000_000)
    assert row.estimated_cost == job.estimated_cost  # the estimate stays for comparison
    text = await wait_for(
        stack, lambda: (lambda t: t if "counted cost" in t else None)(_job_text(stack, job))
    )
    shown = format_money(row.counted_cost or 0, "USD")
    assert f"counted cost *{shown}* from Vertex's billable tokens × 3 epochs at USD 5.00" in text
    assert "Estimated cost" not in text


async def test_a_start_with_no_price_says_the_cost_is_unknown(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex", settings={"TUNEBOT_PRICE_CURRENCY": "EUR"}) as stack:
        await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
        ack, job = await _start(stack, "numbers epochs=2")
        assert "cost unknown: no price for `gemini-2.5-flash`" in ack and "EUR 0" not in ack
        assert job.estimated_tokens == _insight(stack).total_tokens * 2
        assert job.estimated_cost is None and job.cost_currency is None
        [entry] = store_of(stack).audit.entries(stack.workspace.team_id)
        assert entry.action == AuditAction.START and entry.amount is None and entry.currency is None


async def _change(stack: OfflineStack, view: View, action_id: str, values: dict[str, Any]) -> str:
    """Change a field of the start form; the estimate block once the bot redrew it."""
    assert stack.sender is not None
    before = len(view.history)
    stack.workspace.set_view_state(view.id, _state(values))
    select = action_id in ("dataset", "base_model")
    sent = await stack.sender.block_action(
        OWNER,
        action_id,
        values.get(action_id),
        view=view,
        action_type="static_select" if select else "plain_text_input",
        state_values=_state(values),
    )
    assert sent.status_code == 200
    await wait_for(stack, lambda: len(view.history) > before)
    [block] = [b for b in view.blocks if b.get("block_id") == START_ESTIMATE_BLOCK]
    return str(block["elements"][0]["text"])


def _state(values: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for field, value in values.items():
        if field in ("dataset", "base_model"):
            state[field] = {field: {"type": "static_select", "selected_option": {"value": value}}}
        else:
            state[field] = {field: value}
    return state


async def test_the_start_form_estimate_follows_its_fields(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    total = _insight(stack).total_tokens
    view = await open_start_form(stack, OWNER)
    [block] = [b for b in view.blocks if b.get("block_id") == START_ESTIMATE_BLOCK]
    assert "Choose a dataset" in block["elements"][0]["text"]
    dispatching = [b["block_id"] for b in view.blocks if b.get("dispatch_action")]
    assert dispatching == ["dataset", "epochs", "validation", "base_model"]

    fields: dict[str, Any] = {"dataset": "numbers", "base_model": "gemini-2.5-flash"}
    shown = await _change(stack, view, "dataset", fields)
    assert f"≈ {total:,} training tokens per epoch" in shown
    assert "per epoch (epochs chosen by Vertex)" in shown

    fields["epochs"] = "4"
    shown = await _change(stack, view, "epochs", fields)
    assert f"≈ {total * 4:,} training tokens ({total:,} tokens × 4 epochs; an estimate)" in shown
    flash = Decimal(total * 4 * 5) / 1_000_000
    assert f"≈ {format_money(flash, 'USD')} at USD 5.00 per 1M training tokens" in shown

    fields["base_model"] = "gemini-2.5-pro"
    shown = await _change(stack, view, "base_model", fields)
    assert "USD 25.00 per 1M training tokens" in shown and "`gemini-2.5-pro`" in shown

    fields["validation"] = "25%"
    shown = await _change(stack, view, "validation", fields)
    assert "75% of the dataset" in shown and "tokens of the validation set evaluated × 4 epochs" in shown

    fields["epochs"] = "many"
    shown = await _change(stack, view, "epochs", fields)
    assert shown.startswith(":warning:") and "epochs" in shown

    # what the user typed stays: the fields are the same blocks, only the estimate changed
    assert [b.get("block_id") for b in view.blocks][-1] == START_ESTIMATE_BLOCK
    assert view.callback_id == "tune_start" and view.payload["title"]["text"] == "Start tuning"
    assert not any(m.is_bot for m in stack.workspace.messages(CHANNEL))  # nothing started


async def test_epochs_chosen_by_vertex_are_priced_per_epoch_until_it_says_them(stack: OfflineStack) -> None:
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    total = _insight(stack).total_tokens
    ack, job = await _start(stack, "numbers")
    assert f"≈ {total:,} training tokens per epoch" in ack and "per epoch (epochs chosen by Vertex)" in ack
    # unknown until Vertex says the epochs: no amount stored, none audited (never a zero)
    assert job.estimated_tokens is None and job.estimated_cost is None
    [entry] = store_of(stack).audit.entries(stack.workspace.team_id)
    assert entry.action == AuditAction.START and entry.amount is None

    stack.emulator.advance(1.5)  # Vertex has counted the dataset, not yet said the epochs
    await stack.poll(all_due=True)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and not row.epoch_count and row.counted_tokens is None
    text = _job_text(stack, job)
    assert (
        "counted cost *USD" in text
        and "per epoch* from Vertex's billable tokens (epochs chosen by Vertex" in text
    )

    stack.emulator.advance(1)  # tuning: the epochs Vertex chose are in the job
    await stack.poll(all_due=True)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.epoch_count and row.data_stats is not None
    stats = DataStats.from_json(row.data_stats)
    assert stats is not None and stats.billable_tokens is not None
    assert row.counted_tokens == stats.billable_tokens * row.epoch_count and row.counted_cost is not None
    text = _job_text(stack, job)
    assert f"from Vertex's billable tokens × {row.epoch_count} epochs at USD 5.00" in text
