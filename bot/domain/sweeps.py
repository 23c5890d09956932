"""`/tune sweep`: what a sweep asks for (pure data)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.requests import StartArgs

# The options a sweep varies (comma-separated values), in the order a variant names them.
SWEEP_KEYS = ("base_model", "epochs", "learning_rate_multiplier", "adapter_size")
# What a sweep ranks its variants by; the first is the default.
RANK_BY = ("win_rate", "eval_loss", "exact", "similarity")
DEFAULT_SWEEP_MAX = 8


@dataclass(frozen=True)
class SweepArgs:
    """A parsed `/tune sweep`: the dataset, the grid (option -> its values, as typed), the
    metric it ranks by, and one start per combination (all with the same validation)."""

    dataset: str
    grid: tuple[tuple[str, tuple[str, ...]], ...]
    rank_by: str
    starts: tuple[StartArgs, ...]
    settings: tuple[tuple[tuple[str, str], ...], ...]  # each start's grid values, as typed
