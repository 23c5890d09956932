"""A PNG of a tuning job's loss curve, for uploading to Slack.

matplotlib is imported inside `loss_chart_png`, not at module level, so the bot starts
quickly and stays small until the first chart is drawn. Only the object-oriented API
(`Figure` + the Agg canvas) is used, never pyplot: no display is needed, no global
"current figure" is shared, and each call owns its figure, so charts can be drawn
from worker threads.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from bot.datasets.insight import DatasetInsight, Histogram, Spread
from bot.domain.types import LossPoint, final_point
from bot.presentation.fonts import EXTRA_FONTS, font_files
from bot.presentation.text import format_loss

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CHART_DPI",
    "CHART_HEIGHT_PX",
    "CHART_WIDTH_PX",
    "lengths_chart_figure",
    "lengths_chart_png",
    "loss_chart_figure",
    "loss_chart_png",
]

CHART_WIDTH_PX = 900
CHART_HEIGHT_PX = 500
CHART_DPI = 100
TITLE_LIMIT = 80

_LINE_COLOR = "#1264a3"  # Slack's link blue
_BOUNDARY_COLOR = "#9e9e9e"
_FINAL_COLOR = "#e01e5a"
_EVAL_COLOR = "#2eb67d"  # Slack's green, apart from the training line and the final-loss mark

_BASE_FAMILY = "DejaVu Sans"  # matplotlib's own font


def loss_chart_png(
    points: Sequence[LossPoint], title: str, *, eval_points: Sequence[LossPoint] = ()
) -> bytes:
    """The mean loss per step as a 900x500 PNG, with light vertical lines between epochs.

    Points may come in any order; they are drawn by step. Points whose loss is not a
    finite number are left out. `title` is shown as typed (no mathtext, so a `$` is just
    a dollar sign) and shortened with "…" past `TITLE_LIMIT` characters.

    Raises ValueError when there is no point with a finite loss to draw.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = loss_chart_figure(points, title, eval_points=eval_points)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def loss_chart_figure(
    points: Sequence[LossPoint], title: str, *, eval_points: Sequence[LossPoint] = ()
) -> Figure:
    """The chart `loss_chart_png` draws, as a matplotlib Figure (its texts can be read)."""
    drawable = sorted((p for p in points if math.isfinite(p.mean_loss)), key=lambda p: p.step)
    if not drawable:
        raise ValueError("loss_chart_png needs at least one loss point with a finite loss")

    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(
        figsize=(CHART_WIDTH_PX / CHART_DPI, CHART_HEIGHT_PX / CHART_DPI),
        dpi=CHART_DPI,
    )
    # Fixed margins: a layout engine would double the drawing time, and tunebot may draw
    # many charts in one poll cycle when jobs finish together.
    figure.subplots_adjust(left=0.09, right=0.98, top=0.91, bottom=0.11)
    axes = figure.add_subplot()

    steps = [p.step for p in drawable]
    losses = [p.mean_loss for p in drawable]
    axes.plot(
        steps,
        losses,
        color=_LINE_COLOR,
        linewidth=2,
        marker="o" if len(drawable) == 1 else None,
        label="training loss",
    )
    evaluated = sorted((p for p in eval_points if math.isfinite(p.mean_loss)), key=lambda p: p.step)
    if evaluated:  # with a validation set: the eval loss beside the training loss
        axes.plot(
            [p.step for p in evaluated],
            [p.mean_loss for p in evaluated],
            color=_EVAL_COLOR,
            linewidth=2,
            marker="o",
            markersize=4,
            label="eval loss",
        )
        axes.legend(loc="center right", frameon=False)  # clear of the epoch labels on top

    label_at = axes.get_xaxis_transform()  # x in data, y in axes fractions
    boundaries = _epoch_boundaries(drawable)
    for boundary in boundaries:
        axes.axvline(boundary, color=_BOUNDARY_COLOR, linewidth=1, linestyle="--", alpha=0.6, zorder=0)
    if boundaries:
        starts = [steps[0], *boundaries]
        for start, point in zip(starts, _epoch_firsts(drawable), strict=False):
            axes.text(
                start, 0.98, f" epoch {point.epoch + 1}", transform=label_at, fontsize=9,
                color="#616061", ha="left", va="top", parse_math=False,
            )  # fmt: skip

    last = final_point(drawable) or drawable[-1]  # the final loss a finished job's messages show
    axes.plot([last.step], [last.mean_loss], marker="o", color=_FINAL_COLOR, markersize=7, zorder=3)
    axes.annotate(
        f"final loss {format_loss(last.mean_loss)}", (last.step, last.mean_loss), textcoords="offset points",
        xytext=(-8, 10), ha="right", color=_FINAL_COLOR, fontsize=10, parse_math=False,
    )  # fmt: skip

    families = _title_families()
    axes.set_title(_drawable_text(_short_title(title), families), parse_math=False, family=families)
    axes.set_xlabel("step")
    axes.set_ylabel("mean loss")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)

    return figure


def _epoch_boundaries(points: Sequence[LossPoint]) -> list[float]:
    """x positions halfway between the last step of one epoch and the first of the next."""
    return [
        (before.step + after.step) / 2
        for before, after in itertools.pairwise(points)
        if after.epoch != before.epoch
    ]


def _short_title(title: str) -> str:
    one_line = " ".join(title.split())
    if len(one_line) <= TITLE_LIMIT:
        return one_line
    return one_line[: TITLE_LIMIT - 1].rstrip() + "…"


def _epoch_firsts(points: Sequence[LossPoint]) -> list[LossPoint]:
    """The first point of each epoch, in order."""
    return [
        points[0],
        *(after for before, after in itertools.pairwise(points) if after.epoch != before.epoch),
    ]


@lru_cache(maxsize=1)
def _extra_font_files() -> tuple[Path, ...]:
    """The fallback fonts for titles (bot/presentation/fonts.py: Debian's packages or the `fonts` extra)."""
    return font_files(EXTRA_FONTS)


@lru_cache(maxsize=1)
def _title_families() -> tuple[str, ...]:
    """matplotlib's own font first, then every extra font found (glyph by glyph fallback)."""
    from matplotlib import font_manager

    # A variable font's default instance is registered under its lightest weight; matplotlib
    # says so on every lookup ("Failed to find font weight"), which is expected here.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    families = [_BASE_FAMILY]
    for path in _extra_font_files():
        registered = {entry.fname for entry in font_manager.fontManager.ttflist}
        if str(path) not in registered:
            try:
                font_manager.fontManager.addfont(str(path))
            except (OSError, RuntimeError, ValueError):
                continue
        # The families of this file (a .ttc holds several), whether this call registered it or
        # an earlier one did.
        names = {entry.name for entry in font_manager.fontManager.ttflist if entry.fname == str(path)}
        families.extend(sorted(names, key=lambda name: (not name.endswith(" JP"), name)))
    return tuple(dict.fromkeys(families))


@lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """Every code point one of the title fonts can draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    files = [font_manager.findfont(_BASE_FAMILY, fallback_to_default=True), *map(str, _extra_font_files())]
    points: set[int] = set()
    for file in files:
        try:
            points.update(FT2Font(file).get_charmap())
        except (OSError, RuntimeError, ValueError):
            continue
    return frozenset(points)


def _drawable_text(text: str, _families: tuple[str, ...]) -> str:
    """`text` without the characters no title font has (they would be boxes and warnings)."""
    covered = _covered()
    kept = "".join(ch for ch in text if ch.isspace() or ord(ch) in covered)
    return " ".join(kept.split()) or "tuned model"


LENGTHS_WIDTH_PX = 900
LENGTHS_HEIGHT_PX = 360
_MEDIAN_COLOR = "#2eb67d"  # Slack green
_P95_COLOR = "#e01e5a"  # Slack red


def lengths_chart_png(insight: DatasetInsight, title: str) -> bytes:
    """Input and output lengths of a dataset as two small histograms (900x360 PNG), with
    the median and p95 marked; the axis labels give the estimated tokens of those marks."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = lengths_chart_figure(insight, title)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def lengths_chart_figure(insight: DatasetInsight, title: str) -> Figure:
    """The chart `lengths_chart_png` draws, as a matplotlib Figure (its bars, ticks and labels
    can be read)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(LENGTHS_WIDTH_PX / CHART_DPI, LENGTHS_HEIGHT_PX / CHART_DPI), dpi=CHART_DPI)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.84, bottom=0.2, wspace=0.25)
    panels = (
        ("inputs", insight.input_histogram, insight.input_chars, insight.input_tokens),
        ("outputs", insight.output_histogram, insight.output_chars, insight.output_tokens),
    )
    for index, (label, histogram, chars, tokens) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, 2, index)
        _histogram(axes, histogram)
        if chars.median == chars.p95:  # one line, named for both (two would hide one another)
            marks = [(chars.median, _MEDIAN_COLOR, "median = p95")]
        else:
            marks = [(chars.median, _MEDIAN_COLOR, "median"), (chars.p95, _P95_COLOR, "p95")]
        for value, color, name in marks:
            axes.axvline(value, color=color, linewidth=1.5, linestyle="--", label=f"{name} {value:,}")
        axes.set_title(f"{label} (characters)", parse_math=False, fontsize=10)
        axes.set_xlabel(f"characters\n{_token_note(chars, tokens)}", fontsize=8)
        axes.set_ylabel("examples")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(fontsize=8, frameon=False)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    families = _title_families()  # the dataset's name as typed: emoji and CJK too, `$` as a dollar
    figure.suptitle(
        _drawable_text(_short_title(title), families), fontsize=11, parse_math=False, family=families
    )
    return figure


def _histogram(axes: object, histogram: Histogram) -> None:
    """The bars; whole-number bins have their edges halfway between two lengths (a bin one
    character wide is centred on its length), so that no bin splits a length."""
    bins = len(histogram.counts) or 1
    if histogram.width:
        width: float = histogram.width
        lefts = [i * width - 0.5 for i in range(bins)]
    else:  # stored before bins were whole numbers
        width = (histogram.upper or 1) / bins
        lefts = [i * width for i in range(bins)]
    axes.bar(lefts, histogram.counts or [0], width=width, align="edge", color=_LINE_COLOR)  # type: ignore[attr-defined]


def _token_note(chars: Spread, tokens: Spread) -> str:
    return f"≈ tokens (estimate): median {tokens.median:,}, p95 {tokens.p95:,}, max {tokens.max:,}"
