"""The loss chart (#15): labelled epoch lines, the final loss marked, names with emoji or
CJK drawn without boxes or "Glyph missing" warnings, with or without the extra fonts."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator

import pytest

from bot.datasets.insight import InsightBuilder
from bot.domain.types import LossPoint
from bot.presentation import chart
from bot.presentation.chart import lengths_chart_figure, lengths_chart_png, loss_chart_figure, loss_chart_png

NAME = "数字モデル 🚀 next number ✓"


def curve() -> list[LossPoint]:
    return [LossPoint(step=s, epoch=(s - 1) // 8, mean_loss=3 / s**0.5) for s in range(1, 39)]


def texts(points: list[LossPoint], title: str) -> list[str]:
    figure = loss_chart_figure(points, title)
    [axes] = figure.axes
    return [axes.get_title(), *(t.get_text() for t in axes.texts)]


def test_epoch_lines_are_labelled_and_the_final_loss_marked() -> None:
    shown = texts(curve(), "numbers")
    assert [t.strip() for t in shown if "epoch" in t] == [f"epoch {n}" for n in range(1, 6)]
    assert f"final loss {3 / 38**0.5:.3f}" in shown


def drawn_quietly(title: str, caplog: pytest.LogCaptureFixture) -> None:
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        png = loss_chart_png(curve(), title)
    assert png.startswith(b"\x89PNG")
    messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "Glyph" in m or "missing" in m.lower()], messages


@pytest.fixture
def without_extra_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    caches = (chart._extra_font_files, chart._title_families, chart._covered)
    for cache in caches:
        cache.cache_clear()
    monkeypatch.setattr(chart, "EXTRA_FONTS", ())
    yield
    for cache in caches:
        cache.cache_clear()


def test_emoji_and_cjk_names_are_drawn_with_the_font_packages(caplog: pytest.LogCaptureFixture) -> None:
    if not chart._extra_font_files():
        pytest.skip("the fonts extra (manimgx-fonts, manimgx-fonts-cjk) is not installed")
    drawn_quietly(NAME, caplog)
    assert texts(curve(), NAME)[0] == NAME  # every character kept: the fonts have them


def test_without_the_fonts_undrawable_characters_are_left_out_quietly(
    without_extra_fonts: None, caplog: pytest.LogCaptureFixture
) -> None:
    drawn_quietly(NAME, caplog)
    assert texts(curve(), NAME)[0] == "next number ✓"  # DejaVu Sans has the check mark
    assert texts(curve(), "🚀")[0] == "tuned model"


def test_the_length_charts_title_keeps_the_datasets_name_as_typed(caplog: pytest.LogCaptureFixture) -> None:
    """A dataset's name in any script (#20 item 9) titles its length chart: drawn with the
    fallback fonts, no "Glyph missing" warnings, and `$` shown as typed (not read as math)."""
    if not chart._extra_font_files():
        pytest.skip("the fonts extra (manimgx-fonts, manimgx-fonts-cjk) is not installed")
    insight = InsightBuilder(None, None)
    for n in range(12):
        insight.observe(f"row {n + 2}", "q" * (n + 1), "a" * (2 * n + 1))
    built = insight.finish()
    for name in ("한국어 데이터 🤖", "costs $5 and $6"):
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            png = lengths_chart_png(built, name)
            figure = lengths_chart_figure(built, name)
        assert png.startswith(b"\x89PNG")
        messages = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
        assert not [m for m in messages if "Glyph" in m or "missing" in m.lower()], messages
        assert figure.texts[0].get_text() == name
