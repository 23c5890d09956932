"""The sweep builders of bot.presentation for tests/test_escaping_walk.py, with hostile input."""

from __future__ import annotations

from typing import Any

from bot.presentation import sweeps


def sweep_builders(hostile: str) -> dict[str, Any]:
    return {
        "sweeps.sweep_needs_vertex_text": lambda: sweeps.sweep_needs_vertex_text(hostile),
        "sweeps.too_many_variants_text": "numbers only",
        "sweeps.sweep_starting_text": lambda: sweeps.sweep_starting_text(hostile, 4, "Estimated"),
        "sweeps.sweep_started_text": lambda: sweeps.sweep_started_text(1, 2, [(hostile, "refused")]),
        "sweeps.sweep_estimate_text": "amounts and token counts only",
    }
