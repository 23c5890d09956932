"""The sweep builders of bot.presentation for tests/test_escaping_walk.py, with hostile input."""

from __future__ import annotations

from typing import Any

from bot.domain.types import BaseModelChoice
from bot.presentation import sweep_board, sweep_form, sweeps
from bot.services.sweep_board import SweepBoard, VariantLine


def sweep_builders(hostile: str) -> dict[str, Any]:
    return {
        "sweeps.sweep_needs_vertex_text": lambda: sweeps.sweep_needs_vertex_text(hostile),
        "sweeps.too_many_variants_text": "numbers only",
        "sweeps.sweep_starting_text": lambda: sweeps.sweep_starting_text(hostile, 4, "Estimated"),
        "sweeps.sweep_started_text": lambda: sweeps.sweep_started_text(1, 2, [(hostile, "refused")]),
        "sweeps.sweep_estimate_text": "amounts and token counts only",
        "sweeps.sweep_cancel_text": lambda: [
            sweeps.sweep_cancel_text(kind, 1, [hostile], [hostile]) for kind in ("unknown", "refused", "done")
        ],
        "sweep_form.sweep_modal": lambda: sweep_form.sweep_modal(
            "C1",
            "U1",
            [hostile, "7"],
            [BaseModelChoice(hostile, hostile)],
            sweep_max=8,
            display_names={"7": hostile},
        ),
        "sweep_form.sweep_field_error": "a form field's error: plain text",
    } | sweep_board_builders(hostile)


def _board(hostile: str) -> SweepBoard:
    line = VariantLine(
        job_id=1,
        label=hostile,
        display_name=hostile,
        state=hostile,
        train_loss=0.2,
        eval_loss=0.3,
        exact=0.5,
        similarity=0.7,
        win_rate=0.6,
        tokens=100,
        cost=0.01,
        currency="USD",
        settled=True,
    )
    return SweepBoard(sweep_id=1, dataset=hostile, rank_by=hostile, variants=(line,), best=1)


def sweep_board_builders(hostile: str) -> dict[str, Any]:
    board = _board(hostile)
    return {
        "sweep_board.variant_text": lambda: sweep_board.variant_text(board.variants[0], best=True),
        "sweep_board.sweep_board_text": lambda: sweep_board.sweep_board_text(board),
        "sweep_board.sweep_board_blocks": lambda: sweep_board.sweep_board_blocks(board),
        "sweep_board.sweep_ended_text": lambda: sweep_board.sweep_ended_text(board),
    }
