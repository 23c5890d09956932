"""The sweep builders of bot.presentation for tests/test_escaping_walk.py, with hostile input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.domain.types import BaseModelChoice
from bot.presentation import lineage, sweep_board, sweep_form, sweep_home, sweeps
from bot.services.sweep_board import SweepBoard, VariantLine
from bot.services.sweep_summaries import SweepNote, SweepSummary


def sweep_builders(hostile: str) -> dict[str, Any]:
    return (
        {
            "sweeps.sweep_needs_vertex_text": lambda: sweeps.sweep_needs_vertex_text(hostile),
            "sweeps.too_many_variants_text": "numbers only",
            "sweeps.sweep_starting_text": lambda: sweeps.sweep_starting_text(hostile, 4, "Estimated"),
            "sweeps.sweep_started_text": lambda: sweeps.sweep_started_text(1, 2, [(hostile, "refused")]),
            "sweeps.sweep_estimate_text": "amounts and token counts only",
            "sweeps.sweep_cancel_text": lambda: [
                sweeps.sweep_cancel_text(kind, 1, [hostile], [hostile])
                for kind in ("unknown", "refused", "done")
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
        }
        | sweep_board_builders(hostile)
        | sweep_home_builders(hostile)
    )


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


def hostile_summaries(hostile: str) -> list[SweepSummary]:
    """A running sweep with a leader, an ended one with none, and one not posted yet."""
    leader = _board(hostile).variants[0]
    running = SweepSummary(
        sweep_id=2,
        dataset=hostile,
        rank_by=hostile,
        owner_user_id="U0OWNER",
        channel_id="C1",
        posted=True,
        created_at=datetime(2026, 1, 2, tzinfo=UTC),
        variants=4,
        running=1,
        succeeded=1,
        failed=1,
        cancelled=1,
        leader=leader,
        ended=False,
    )
    ended = SweepSummary(**{**running.__dict__, "sweep_id": 1, "leader": None, "ended": True, "running": 0})
    unposted = SweepSummary(**{**running.__dict__, "sweep_id": 3, "leader": None, "posted": False})
    return [running, ended, unposted]


def sweep_home_builders(hostile: str) -> dict[str, Any]:
    summaries = hostile_summaries(hostile)
    line = _board(hostile).variants[0]
    note = SweepNote(3, 2, 4, ((hostile, hostile), ("epochs", "2")))
    return {
        "sweep_board.rank_score_text": lambda: [
            sweep_board.rank_score_text(line, rank_by)
            for rank_by in ("win_rate", "eval_loss", "exact", "similarity", hostile)
        ],
        "sweep_home.sweep_summary_text": lambda: [sweep_home.sweep_summary_text(s) for s in summaries],
        "sweep_home.sweeps_section": lambda: sweep_home.sweeps_section(summaries),
        "lineage.sweep_note_text": lambda: [
            lineage.sweep_note_text(note),
            lineage.sweep_note_text(SweepNote(1, 1, 2, ())),
        ],
    }
