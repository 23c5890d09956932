"""What `/tune sweep` answers (its leaderboard is bot/presentation/sweep_board.py)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.pricing import CostEstimate
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.text import format_money


def sweep_needs_vertex_text(backend: str) -> str:
    """`/tune sweep` on a backend other than Vertex AI."""
    return (
        f":x: Sweeps run on Vertex AI; this tunebot tunes on the {esc(backend)} backend. "
        "Start the variants one by one with `/tune start`."
    )


def too_many_variants_text(count: int, limit: int) -> str:
    """A grid with more combinations than TUNEBOT_SWEEP_MAX."""
    return (
        f":x: That sweep has {count} combinations; at most {limit} may run at once "
        "(TUNEBOT_SWEEP_MAX). Give fewer values."
    )


def sweep_starting_text(dataset: str, count: int, estimate: str) -> str:
    """The ack of `/tune sweep` while its variants are started."""
    return f":hourglass: Starting a sweep of {count} variants on dataset `{esc(dataset)}`… {estimate}"


def sweep_started_text(sweep_id: int, started: int, refused: Sequence[tuple[str, str]]) -> str:
    """After the starts: how many began, and each refused variant with its reason (already mrkdwn)."""
    lines = [
        f":white_check_mark: Sweep {sweep_id}: {started} variant{'s' if started != 1 else ''} started, "
        f"all on the same held-out examples. `/tune sweep cancel {sweep_id}` stops them."
        if started
        else ":x: No variant of the sweep could be started."
    ]
    lines += [f"• `{esc(label)}` was not started: {reason}" for label, reason in refused]
    return "\n".join(lines)


def sweep_estimate_text(costs: Sequence[CostEstimate | None]) -> str:
    """The sweep's total estimate, when every variant's is known."""
    amounts = [cost.amount for cost in costs if cost is not None]
    tokens = [cost.tokens for cost in costs if cost is not None]
    if len(amounts) != len(costs) or any(a is None for a in amounts) or not costs:
        known = [t for t in tokens if t is not None]
        if len(known) == len(costs) and known:
            return f"Estimated {sum(known):,} tokens in all."
        return "Its cost is shown on each job as Vertex AI reports it."
    first = costs[0]
    assert first is not None
    total = sum(a for a in amounts if a is not None)
    return f"Estimated {format_money(total, first.currency)} in all."
