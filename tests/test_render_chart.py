"""The loss chart is a real PNG of the expected size, drawn without a display."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from bot.domain.types import LossPoint
from bot.presentation.chart import CHART_HEIGHT_PX, CHART_WIDTH_PX, loss_chart_png

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def curve(steps: int = 38, steps_per_epoch: int = 8) -> list[LossPoint]:
    return [
        LossPoint(step=step, epoch=(step - 1) // steps_per_epoch, mean_loss=3.0 / step)
        for step in range(1, steps + 1)
    ]


def decoded_shape(png: bytes) -> tuple[int, ...]:
    from matplotlib.image import imread

    return tuple(imread(io.BytesIO(png), format="png").shape)


@pytest.fixture(scope="module")
def chart() -> bytes:
    return loss_chart_png(curve(), "Support bot")


def test_chart_is_a_png(chart: bytes) -> None:
    assert chart.startswith(PNG_MAGIC)


def test_chart_decodes_to_900_by_500(chart: bytes) -> None:
    height, width, *_ = decoded_shape(chart)
    assert (width, height) == (CHART_WIDTH_PX, CHART_HEIGHT_PX) == (900, 500)


@pytest.mark.parametrize(
    "points",
    [
        [LossPoint(step=1, epoch=0, mean_loss=2.5)],
        list(reversed(curve(10))),
        [*curve(5), LossPoint(step=6, epoch=0, mean_loss=float("nan"))],
    ],
    ids=["single-point", "unsorted", "with-nan"],
)
def test_chart_copes_with_awkward_points(points: list[LossPoint]) -> None:
    assert decoded_shape(loss_chart_png(points, "x"))[:2] == (CHART_HEIGHT_PX, CHART_WIDTH_PX)


@pytest.mark.parametrize("title", ["costs $5 and $ more", "a_b^c \\frac{", "x" * 500, "line\nbreak"])
def test_chart_shows_any_title_as_typed(title: str) -> None:
    assert loss_chart_png(curve(4), title).startswith(PNG_MAGIC)


def test_chart_needs_points() -> None:
    with pytest.raises(ValueError):
        loss_chart_png([], "empty")


def test_chart_needs_a_finite_loss() -> None:
    with pytest.raises(ValueError):
        loss_chart_png([LossPoint(step=1, epoch=0, mean_loss=float("nan"))], "nan")


def test_importing_the_chart_module_does_not_load_matplotlib() -> None:
    code = "import sys, bot.presentation.chart; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
