"""What a job cancelled while tuning has cost (issue #22, `/tune cancel`): a pure rule.

Vertex AI bills supervised tuning by the tokens it trains on: the dataset's billable tokens
once per epoch. The job's counted cost (from Vertex's billable token count) and its estimate
are both for the whole run, so a job stopped part way has cost that amount × the share of
its steps done. The counted cost is the better base when known; the estimate otherwise.
"""

from __future__ import annotations


def share_done(completed_steps: int | None, total_steps: int | None) -> float | None:
    """The share (0–1) of the job's steps done, or None when the total is not known."""
    if not total_steps or total_steps <= 0:
        return None
    return min(1.0, max(0.0, (completed_steps or 0) / total_steps))


def cost_so_far(
    *,
    counted_cost: float | None,
    estimated_cost: float | None,
    completed_steps: int | None,
    total_steps: int | None,
) -> float | None:
    """What a job stopped after `completed_steps` of `total_steps` has cost: the whole run's
    counted cost (else its estimate) × the share of steps done. None when neither amount, or
    the job's total steps, is known. A job stopped before its first step cost nothing."""
    whole = counted_cost if counted_cost is not None else estimated_cost
    if whole is None:
        return None
    if not completed_steps:
        return 0.0
    share = share_done(completed_steps, total_steps)
    return None if share is None else round(whole * share, 6)
