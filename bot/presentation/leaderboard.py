"""Block Kit for `/tune eval <model>,<model>,… <dataset>`: one leaderboard. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.text import escape_mrkdwn as esc
from bot.evaluation.board import EvalBoard
from bot.presentation.evaluation import WIN_RATE_RULE, win_rate_text
from bot.presentation.models import model_named
from bot.services.errors import ModelRef

Block = dict[str, Any]

TRAINED_ON_BOARD_NOTE = (
    "At least one of these models was tuned on this dataset: its scores on its own training "
    "examples flatter it."
)


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def leaderboard_blocks(
    board: EvalBoard,
    *,
    dataset: str,
    models: Sequence[ModelRef],
    note: str | None = None,
) -> tuple[str, list[Block]]:
    """Every model's exact match, similarity and win rate against its base model, best first,
    the best marked (by win rate, then similarity, then exact match). `models` names the
    board's models, in its order."""
    of = f" of {board.available:,}" if board.available > board.count else ""
    sampled = (
        f", sampled at random (seed {board.seed})"
        if board.seed is not None and board.available > board.count
        else ""
    )
    heading = (
        f":trophy: *Leaderboard on {esc(dataset)}*: {len(board.reports)} models on the same "
        f"{board.count:,}{of} examples{sampled}, each against its base model"
    )
    best = board.best()
    lines: list[str] = []
    unjudged_notes: list[str] = []
    for place, index in enumerate(board.ranked(), start=1):
        report = board.reports[index]
        name = model_named(models[index]) if index < len(models) else f"`{esc(report.tuned_model)}`"
        mark = " :star: *best*" if index == best else ""
        wins, ties, losses, unjudged = report.outcomes
        judged = (
            f", win rate *{win_rate_text(report.win_rate)}* ({wins} W / {ties} T / {losses} L)"
            if report.judge_model
            else ""
        )
        lines.append(
            f"{place}. {name}{mark}: exact {_percent(report.tuned_exact_rate)} "
            f"(base {_percent(report.base_exact_rate)}), similarity {report.tuned_mean_similarity:.2f} "
            f"(base {report.base_mean_similarity:.2f}){judged} — base `{esc(report.base_model)}`"
        )
        if report.judge_model and unjudged:
            unjudged_notes.append(f"{name}: {unjudged:,} rows unjudged")
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (heading + "\n" + "\n".join(lines))[:3000]}}
    ]
    notes = ["Every row and every answer is in the CSV file in this thread."]
    if board.judge_model:
        notes.append(f"Judged by `{esc(board.judge_model)}`; {WIN_RATE_RULE}.")
        notes.append("The best has the highest win rate, then similarity, then exact match.")
    else:
        notes.append("The best has the highest similarity, then exact match.")
    if unjudged_notes:
        notes.append(
            ":warning: The judge failed on some rows (left out of the win rate): "
            + "; ".join(unjudged_notes)
            + "."
        )
    if note:
        notes.append(note)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " ".join(notes)[:3000]}]})
    winner = board.reports[best].tuned_model if best is not None else None
    text = f"Leaderboard on {esc(dataset)}: {len(board.reports)} models" + (
        f", best {esc(models[best].display_name or winner or '')}"
        if best is not None and best < len(models)
        else ""
    )
    return text, blocks


def board_evaluating_text(user_id: str, models: Sequence[ModelRef], examples: int, dataset: str) -> str:
    """The thread's first message while a multi-model `/tune eval` runs."""
    names = ", ".join(model_named(m) for m in models)
    return (
        f":hourglass: <@{user_id}> is evaluating {len(models)} models ({names}) on the same "
        f"{examples:,} examples of dataset *{esc(dataset)}*…"
    )


def board_evaluated_text(user_id: str, models: Sequence[ModelRef], examples: int, dataset: str) -> str:
    """The thread's first message once a multi-model `/tune eval` is done."""
    names = ", ".join(model_named(m) for m in models)
    return (
        f":white_check_mark: <@{user_id}> evaluated {len(models)} models ({names}) on the same "
        f"{examples:,} examples of dataset *{esc(dataset)}*: the leaderboard and the CSV are in this thread."
    )


def board_file_title(dataset: str) -> str:
    """The title of a leaderboard's CSV file (plain text)."""
    return f"Leaderboard — {dataset}"
