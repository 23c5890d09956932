"""What a job cancelled while tuning has cost (issue #22, `/tune cancel`): a pure rule.

Vertex AI bills supervised tuning by the tokens it trains on: the dataset's billable tokens
once per epoch. The job's counted cost (from Vertex's billable token count) and its estimate
are both for the whole run, so a job stopped part way has cost that amount × the share of
its steps done. The counted cost is the better base when known; the estimate otherwise.
"""

from __future__ import annotations


def share_done(
    completed_steps: int | None, total_steps: int | None, percent: float | None = None
) -> float | None:
    """The share (0–1) of the job's steps done: steps done / total steps when both are known,
    else the job's reported percent (Vertex AI reports whole epochs before its step metrics
    arrive); None when neither is known."""
    if completed_steps is not None and total_steps and total_steps > 0:
        return min(1.0, max(0.0, completed_steps / total_steps))
    if percent is not None:
        return min(1.0, max(0.0, percent / 100))
    return None


def cost_so_far(
    *,
    counted_cost: float | None,
    estimated_cost: float | None,
    completed_steps: int | None,
    total_steps: int | None,
    percent: float | None = None,
) -> float | None:
    """What a job stopped part way has cost: the whole run's counted cost (else its estimate)
    × the share of its steps done (`share_done`). None when neither amount, or the share, is
    known."""
    whole = counted_cost if counted_cost is not None else estimated_cost
    if whole is None:
        return None
    share = share_done(completed_steps, total_steps, percent)
    return None if share is None else round(whole * share, 6)
