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

from bot.render.model import LossPoint

__all__ = ["CHART_DPI", "CHART_HEIGHT_PX", "CHART_WIDTH_PX", "loss_chart_png"]

CHART_WIDTH_PX = 900
CHART_HEIGHT_PX = 500
CHART_DPI = 100
TITLE_LIMIT = 80

_LINE_COLOR = "#1264a3"  # Slack's link blue
_BOUNDARY_COLOR = "#9e9e9e"
_EVAL_COLOR = "#e01e5a"  # Slack's red, apart from the training line


def loss_chart_png(
    points: Sequence[LossPoint], title: str, *, eval_points: Sequence[LossPoint] = ()
) -> bytes:
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
        axes.legend(loc="upper right", frameon=False)

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
