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


SWEEP_CANCEL_USAGE = "`/tune sweep cancel <sweep number>`, e.g. `/tune sweep cancel 3`."


def sweep_cancel_text(
    kind: str, sweep_id: int | None, cancelled: Sequence[str], others: Sequence[str]
) -> str:
    """The answer to `/tune sweep cancel`: `cancelled` the variants stopped now (display names),
    `others` those that could not be (already ending, starting, or the service refused)."""
    if kind == "unknown":
        return f"There is no such sweep in this workspace. Usage: {SWEEP_CANCEL_USAGE}"
    if kind == "refused":
        return f":no_entry: Only the person who started sweep {sweep_id} or a tunebot admin may cancel it."
    if not cancelled and not others:
        return f"Sweep {sweep_id} has no variant still running."
    lines = []
    if cancelled:
        shown = ", ".join(f"*{esc(name)}*" for name in cancelled)
        lines.append(f":octagonal_sign: Sweep {sweep_id}: cancelled {shown}.")
    if others:
        shown = ", ".join(f"*{esc(name)}*" for name in others)
        lines.append(f"Not cancelled (ending, still starting, or refused by the service): {shown}.")
    return "\n".join(lines)
