"""A sweep's one message: its leaderboard, edited in place, and the notice when it has ended."""

from __future__ import annotations

from typing import Any

from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.blocks import state_badge
from bot.presentation.text import format_loss, format_money
from bot.services.sweep_board import SweepBoard, VariantLine

RANK_NAMES = {
    "win_rate": "win rate against the base model",
    "eval_loss": "eval loss (lowest)",
    "exact": "held-out exact match",
    "similarity": "held-out similarity",
}
BEST = ":trophy:"


def _percent(value: float | None) -> str | None:
    return None if value is None else f"{value * 100:.0f}%"


def _scores(line: VariantLine) -> dict[str, tuple[str, str | None]]:
    """The variant's numbers in leaderboard order, by the `rank_by` that names them."""
    return {
        "train_loss": ("train loss", format_loss(line.train_loss)),
        "eval_loss": ("eval loss", format_loss(line.eval_loss)),
        "exact": ("exact", _percent(line.exact)),
        "similarity": ("similarity", None if line.similarity is None else f"{line.similarity:.2f}"),
        "win_rate": ("win rate", _percent(line.win_rate)),
    }


def rank_score_text(line: VariantLine, rank_by: str) -> str | None:
    """The score the sweep ranks `line` by, as its leaderboard shows it: `win rate 75%`."""
    name, value = _scores(line).get(rank_by, (rank_by, None))
    return None if value is None else f"{name} {value}"


def variant_text(line: VariantLine, *, best: bool) -> str:
    """One row of the leaderboard."""
    parts = [state_badge(line.state)]
    for name, value in _scores(line).values():
        if value is not None:
            parts.append(f"{name} {value}")
    if line.tokens is not None:
        parts.append(f"{line.tokens:,} tokens")
    if line.cost is not None and line.currency:
        parts.append(format_money(line.cost, line.currency))
    mark = f"{BEST} " if best else ""
    return f"{mark}*{esc(line.label)}* ({esc(line.display_name)}): " + " · ".join(parts)


def sweep_board_text(board: SweepBoard) -> str:
    """The whole leaderboard as mrkdwn (the message's text and its one section)."""
    head = (
        f":bar_chart: *Sweep {board.sweep_id}* on dataset `{esc(board.dataset)}`: "
        f"{len(board.variants)} variants on the same held-out examples, ranked by "
        f"{RANK_NAMES.get(board.rank_by, esc(board.rank_by))}."
    )
    rows = [variant_text(line, best=line.job_id == board.best) for line in board.variants]
    if board.ended:
        tail = "Ended." if board.best is not None else "Ended; no variant has a score to rank by."
    else:
        tail = f"`/tune sweep cancel {board.sweep_id}` stops the variants still running."
    return "\n".join([head, *rows, tail])


def sweep_board_blocks(board: SweepBoard) -> tuple[str, list[dict[str, Any]]]:
    text = sweep_board_text(board)
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]


def sweep_ended_text(board: SweepBoard) -> str:
    """The one notice in the sweep's thread when every variant has ended."""
    best = next((line for line in board.variants if line.job_id == board.best), None)
    if best is None:
        return f":checkered_flag: Sweep {board.sweep_id} has ended; no variant has a score to rank by."
    return (
        f":checkered_flag: Sweep {board.sweep_id} has ended. Best by "
        f"{RANK_NAMES.get(board.rank_by, esc(board.rank_by))}: *{esc(best.label)}* "
        f"(`{esc(best.display_name)}`)."
    )
