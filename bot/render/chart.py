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
import math
from collections.abc import Sequence

from bot.datasets.insight import DatasetInsight, Histogram, Spread
from bot.render.model import LossPoint

__all__ = ["CHART_DPI", "CHART_HEIGHT_PX", "CHART_WIDTH_PX", "lengths_chart_png", "loss_chart_png"]

CHART_WIDTH_PX = 900
CHART_HEIGHT_PX = 500
CHART_DPI = 100
TITLE_LIMIT = 80

_LINE_COLOR = "#1264a3"  # Slack's link blue
_BOUNDARY_COLOR = "#9e9e9e"


def loss_chart_png(points: Sequence[LossPoint], title: str) -> bytes:
    """The mean loss per step as a 900x500 PNG, with light vertical lines between epochs.

    Points may come in any order; they are drawn by step. Points whose loss is not a
    finite number are left out. `title` is shown as typed (no mathtext, so a `$` is just
    a dollar sign) and shortened with "…" past `TITLE_LIMIT` characters.

    Raises ValueError when there is no point with a finite loss to draw.
    """
    drawable = sorted((p for p in points if math.isfinite(p.mean_loss)), key=lambda p: p.step)
    if not drawable:
        raise ValueError("loss_chart_png needs at least one loss point with a finite loss")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(
        figsize=(CHART_WIDTH_PX / CHART_DPI, CHART_HEIGHT_PX / CHART_DPI),
        dpi=CHART_DPI,
    )
    # Fixed margins: a layout engine would double the drawing time, and tunebot may draw
    # many charts in one poll cycle when jobs finish together.
    figure.subplots_adjust(left=0.09, right=0.98, top=0.91, bottom=0.11)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()

    steps = [p.step for p in drawable]
    losses = [p.mean_loss for p in drawable]
    axes.plot(steps, losses, color=_LINE_COLOR, linewidth=2, marker="o" if len(drawable) == 1 else None)

    for boundary in _epoch_boundaries(drawable):
        axes.axvline(boundary, color=_BOUNDARY_COLOR, linewidth=1, linestyle="--", alpha=0.6, zorder=0)

    axes.set_title(_short_title(title), parse_math=False)
    axes.set_xlabel("step")
    axes.set_ylabel("mean loss")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)

    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()


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


LENGTHS_WIDTH_PX = 900
LENGTHS_HEIGHT_PX = 360
_MEDIAN_COLOR = "#2eb67d"  # Slack green
_P95_COLOR = "#e01e5a"  # Slack red


def lengths_chart_png(insight: DatasetInsight, title: str) -> bytes:
    """Input and output lengths of a dataset as two small histograms (900x360 PNG), with
    the median and p95 marked; the axis labels give the estimated tokens of those marks."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(LENGTHS_WIDTH_PX / CHART_DPI, LENGTHS_HEIGHT_PX / CHART_DPI), dpi=CHART_DPI)
    figure.subplots_adjust(left=0.07, right=0.98, top=0.84, bottom=0.16, wspace=0.25)
    canvas = FigureCanvasAgg(figure)
    panels = (
        ("inputs", insight.input_histogram, insight.input_chars, insight.input_tokens),
        ("outputs", insight.output_histogram, insight.output_chars, insight.output_tokens),
    )
    for index, (label, histogram, chars, tokens) in enumerate(panels, start=1):
        axes = figure.add_subplot(1, 2, index)
        _histogram(axes, histogram)
        for value, color, name in ((chars.median, _MEDIAN_COLOR, "median"), (chars.p95, _P95_COLOR, "p95")):
            axes.axvline(value, color=color, linewidth=1.5, linestyle="--", label=f"{name} {value:,}")
        axes.set_title(f"{label} (characters)", parse_math=False, fontsize=10)
        axes.set_xlabel(_token_note(chars, tokens), fontsize=8)
        axes.set_ylabel("examples")
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(fontsize=8, frameon=False)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
    figure.suptitle(_short_title(title), fontsize=11)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    return buffer.getvalue()


def _histogram(axes: object, histogram: Histogram) -> None:
    bins = len(histogram.counts) or 1
    width = (histogram.upper or 1) / bins
    lefts = [i * width for i in range(bins)]
    axes.bar(lefts, histogram.counts or [0], width=width, align="edge", color=_LINE_COLOR)  # type: ignore[attr-defined]


def _token_note(chars: Spread, tokens: Spread) -> str:
    return f"≈ tokens (estimate): median {tokens.median:,}, p95 {tokens.p95:,}, max {tokens.max:,}"
