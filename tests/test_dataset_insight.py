"""What is in a dataset: gathered while validating, shown at upload and by `/tune datasets <name>`,
and the training-token (and cost) estimate of a start."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import Rectangle

from bot.datasets import Limits, parse_dataset
from bot.datasets.insight import DatasetInsight, estimate_tokens
from bot.domain.pricing import CostBasis, estimate_cost, price_for, price_of
from bot.presentation.chart import lengths_chart_figure, lengths_chart_png
from bot.presentation.costs import estimate_text
from bot.storage.store import Store
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, OWNER, ack_body, running_stack, store_of, upload_file, wait_for


def _csv(rows: list[tuple[str, str]]) -> bytes:
    lines = ["input,output"] + [f'"{a}","{b}"' for a, b in rows]
    return ("\n".join(lines) + "\n").encode()


def _numbers(n: int) -> list[tuple[str, str]]:
    return [(f"what comes after {i}", f"{i + 1}") for i in range(n)]


def test_token_estimate_is_a_fixed_documented_rule() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("abcd") == 1 and estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 400) == 100
    # Three UTF-8 bytes a character: 4 CJK characters are 12 bytes, so 3 tokens.
    assert estimate_tokens("日本語文") == 3


def test_lengths_duplicates_and_conflicts_with_row_numbers() -> None:
    rows = [*_numbers(20), ("what comes after 3", "4"), ("what comes after 5", "seven")]
    parsed = parse_dataset(_csv(rows), "n.csv")
    assert parsed.ok
    insight = parsed.insight
    assert insight is not None and insight.examples == 22
    # Row 2 is the first example (row 1 is the header), so example 3 is row 5.
    assert insight.exact_duplicates.count == 1
    assert insight.exact_duplicates.rows == ["row 22 (same as row 5)"]
    assert insight.conflicting_duplicates.count == 1
    assert insight.conflicting_duplicates.rows == ["row 23 (same input as row 7, another output)"]
    lengths = sorted(len(a) for a, _ in rows)
    assert insight.input_chars.min == lengths[0] and insight.input_chars.max == lengths[-1]
    assert insight.input_chars.median == lengths[10]  # nearest rank: ceil(0.5 × 22) = 11th
    assert insight.input_chars.p95 == lengths[20]  # ceil(0.95 × 22) = 21st
    assert insight.total_tokens == sum(estimate_tokens(a) + estimate_tokens(b) for a, b in rows)
    assert sum(insight.input_histogram.counts) == 22
    assert [p[0] for p in insight.preview] == [f"what comes after {i}" for i in range(3)]
    assert DatasetInsight.from_json(insight.to_json()) == insight


def test_rows_near_the_limits_and_fields_empty_after_trim() -> None:
    limits = Limits(max_input_chars=100, max_output_chars=50)
    rows = [*_numbers(12), ("x" * 95, "ok"), ("fine", "y" * 46), ("   ", "z")]
    lines = [json.dumps({"text_input": a, "output": b}) for a, b in rows]
    parsed = parse_dataset(("\n".join(lines) + "\n").encode(), "n.jsonl", limits=limits)
    insight = parsed.insight
    assert insight is not None
    assert insight.near_input_limit.rows == ["line 13"]
    assert insight.near_output_limit.rows == ["line 14"]
    assert insight.empty_fields.count == 1 and insight.empty_fields.rows == ["line 15 `text_input`"]


def test_estimate_and_cost_only_where_a_price_is_known() -> None:
    insight = parse_dataset(_csv(_numbers(30)), "n.csv").insight
    assert insight is not None

    def shown(prices: dict[str, float], currency: str = "USD", model: str = "gemini-1.5-flash") -> str:
        basis = CostBasis(model, insight.total_tokens, 0, price_of(model, prices, currency), currency)
        return estimate_text(estimate_cost(basis, 3))

    plain = shown({})  # no price in the table nor in the setting
    assert f"≈ {insight.total_tokens * 3:,} training tokens" in plain and "estimate" in plain
    assert "USD" not in plain and "cost unknown: no price for `gemini-1.5-flash`" in plain
    priced = shown({"gemini-1.5-flash": 2_000_000.0}, "EUR")
    cost = insight.total_tokens * 3 / 1_000_000 * 2_000_000.0
    assert f"≈ EUR {cost:,.2f} at the configured EUR 2,000,000.00 per 1M training tokens" in priced
    assert price_for({"gemini-1.5-flash-001-tuning": 1.0}, "models/gemini-1.5-flash-001-tuning") == 1.0
    assert price_for({"other": 1.0}, "models/gemini-1.5-flash-001-tuning") is None


def test_length_chart_is_a_png() -> None:
    insight = parse_dataset(_csv(_numbers(30)), "n.csv").insight
    assert insight is not None
    png = lengths_chart_png(insight, "Lengths")
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def _bars(axes: Axes) -> list[tuple[float, float, float]]:
    """(left, width, height) of every bar of a histogram panel."""
    return [(b.get_x(), b.get_width(), b.get_height()) for b in axes.patches if isinstance(b, Rectangle)]


@pytest.mark.parametrize("count", [3, 30, 400])
def test_length_chart_bins_whole_numbers_and_labels_its_axis(count: int) -> None:
    """Every bin holds whole numbers of characters (its edges halfway between two), the x ticks
    are whole numbers, and the x axis says what it counts."""
    rows = [(f"q{'x' * (i % 97)}", f"{i + 1}") for i in range(count)]
    insight = parse_dataset(_csv(rows), "n.csv").insight
    assert insight is not None
    figure = lengths_chart_figure(insight, "Lengths")
    FigureCanvasAgg(figure).draw()
    panels = figure.get_axes()
    assert len(panels) == 2
    for axes, chars in zip(panels, (insight.input_chars, insight.output_chars), strict=True):
        bars = _bars(axes)
        widths = {width for _, width, _ in bars}
        assert len(widths) == 1 and float(next(iter(widths))).is_integer()
        for left, _, _ in bars:
            assert (left + 0.5).is_integer(), bars  # edges at k - 0.5: a bin never splits a count
        assert sum(height for _, _, height in bars) == count
        ticks = [t for t in axes.get_xticks() if axes.get_xlim()[0] <= t <= axes.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert axes.get_xlabel().startswith("characters")
        # the bar holding the median is the one the median line crosses
        [median_bar] = [b for b in bars if b[0] < chars.median < b[0] + b[1]]
        assert median_bar[2] > 0


def test_length_chart_shows_a_median_equal_to_its_p95() -> None:
    rows = [("q" + "x" * i, "same") for i in range(30)]  # every output is 4 characters
    insight = parse_dataset(_csv(rows), "n.csv").insight
    assert insight is not None and insight.output_chars.median == insight.output_chars.p95 == 4
    figure = lengths_chart_figure(insight, "Lengths")
    outputs = figure.get_axes()[1]
    legend = outputs.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["median = p95 4"]
    inputs = figure.get_axes()[0]
    labels = [t.get_text() for t in inputs.get_legend().get_texts()]
    assert len(labels) == 2 and labels[0].startswith("median ") and labels[1].startswith("p95 ")


def test_a_length_histogram_stored_before_whole_number_bins_still_draws() -> None:
    insight = parse_dataset(_csv(_numbers(30)), "n.csv").insight
    assert insight is not None
    raw = json.loads(insight.to_json())
    for key in ("input_histogram", "output_histogram"):
        raw[key] = {"upper": 40, "counts": [1] * 12}  # as tunebot stored it before
    old = DatasetInsight.from_json(json.dumps(raw))
    assert old is not None
    assert lengths_chart_png(old, "Lengths").startswith(b"\x89PNG")


async def test_upload_reply_shows_the_insight_and_the_chart_arrives_in_a_dm(stack: OfflineStack) -> None:
    rows = [*_numbers(30), ("what comes after 3", "4")]
    answer = await upload_file(stack, OWNER, "counting.csv", _csv(rows))
    text = answer.text
    assert "Stored dataset *counting*: 31 examples" in text
    assert "Exact duplicates: 1 (row 32 (same as row 5))" in text
    assert "Conflicting duplicates (same input, different output): none" in text
    assert "median" in text and "p95" in text and "token counts are estimates" in text
    assert "fewer than 100 expect weak results" in text and "100–500" in text
    assert "> what comes after 0  →  1" in text
    chart = await wait_for(stack, lambda: next(iter(stack.workspace.uploads("D" + OWNER[1:])), None))
    assert chart.name.endswith("-lengths.png") and chart.content.startswith(b"\x89PNG")
    # Kept with the dataset: `/tune datasets <name>` answers from the stored insight.
    assert stack.sender is not None
    shown = ack_body(await stack.sender.slash_command(OWNER, "datasets counting"))["text"]
    assert "*counting* — 31 examples" in shown and "Exact duplicates: 1 (row 32 (same as row 5))" in shown
    assert "/tune start counting" in shown
    await wait_for(stack, lambda: len(stack.workspace.uploads("D" + OWNER[1:])) == 2)


async def test_start_ack_gives_the_training_token_estimate_and_the_configured_cost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNEBOT_TRAINING_PRICES", "gemini-1.5-flash-001-tuning=4")
    with running_stack(tmp_path) as running:
        await upload_file(running, OWNER, "counting.csv", _csv(_numbers(30)))
        dataset = store_of(running).datasets.by_name(running.workspace.team_id, "counting")
        assert dataset is not None and dataset.id is not None
        insight = DatasetInsight.from_json(store_of(running).datasets.insight(dataset.id))
        assert insight is not None
        assert running.sender is not None
        ack = ack_body(await running.sender.slash_command(OWNER, "start counting epochs=4"))["text"]
        assert f"≈ {insight.total_tokens * 4:,} training tokens" in ack and "an estimate" in ack
        cost = insight.total_tokens * 4 / 1_000_000 * 4
        assert f"≈ USD {cost:.4f} at the configured USD 4.00 per 1M training tokens" in ack
        await wait_for(running, lambda: any(m.is_bot for m in running.workspace.messages(CHANNEL)))


def test_a_dataset_stored_before_insight_was_kept_gets_it_from_its_examples(tmp_path: Path) -> None:
    from bot.domain.types import TrainingExample
    from bot.services.datasets import dataset_insight

    store = Store.from_url(f"sqlite:///{tmp_path / 'old.db'}")
    dataset = store.datasets.add(
        team_id="T1",
        owner_user_id="U1",
        channel_id=None,
        name="old",
        file_name="old.csv",
        format="csv",
        sha256="0" * 64,
        examples=[TrainingExample(a, b) for a, b in _numbers(12)],
    )
    assert dataset.id is not None and store.datasets.insight(dataset.id) is None
    insight = dataset_insight(store, dataset)
    assert insight.examples == 12 and insight.preview[0] == ("what comes after 0", "1")
    assert store.datasets.insight(dataset.id) is not None
    with sqlite3.connect(tmp_path / "old.db") as db:
        assert db.execute("SELECT count(*) FROM dataset_insight").fetchone() == (1,)


@pytest.mark.parametrize("epochs", [1, 5])
def test_training_tokens_are_tokens_times_epochs(epochs: int) -> None:
    insight = parse_dataset(_csv(_numbers(15)), "n.csv").insight
    assert insight is not None
    assert insight.training_tokens(epochs) == insight.total_tokens * epochs


def test_the_price_setting_is_the_one_the_job_message_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import Settings

    monkeypatch.setenv("TUNEBOT_TRAINING_PRICES", "gemini-2.5-flash=5, gemini-2.5-pro=25.5")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.training_prices == {"gemini-2.5-flash": 5.0, "gemini-2.5-pro": 25.5}
    assert settings.price_currency == "USD"
    monkeypatch.delenv("TUNEBOT_TRAINING_PRICES")
    assert Settings(_env_file=None).training_prices == {}  # type: ignore[call-arg]


def test_an_old_database_upgrades_to_insight_and_evaluation_in_place(tmp_path: Path) -> None:
    from bot.services.datasets import dataset_insight
    from tests.helpers.databases import PAIRS, database_made_before_alembic

    path = tmp_path / "tunebot.db"
    database_made_before_alembic(path)
    store = Store.from_url(f"sqlite:///{path}")  # upgrades through 0005_insight_eval
    job = store.jobs.get(7)
    assert job is not None and (job.eval_state, job.eval_ts) == ("none", None)
    assert store.threads.compare_base_model("C1", "1700000001.000200") is None  # an old /tune try thread
    assert store.threads.model_for("C1", "1700000001.000200") == "tunedModels/numbers-abc"
    (summary,) = store.datasets.list_for_owner("T1", "U1")
    assert store.datasets.insight(summary.dataset.id or 0) is None  # uploaded before insight was kept
    insight = dataset_insight(store, summary.dataset)
    assert insight.examples == len(PAIRS)
    assert store.evaluations.report(7) is None
    store.evaluations.save_report(7, '{"tuned_model": "m", "base_model": "b", "rows": []}')
    assert store.evaluations.report(7) is not None
    store.engine.dispose()
