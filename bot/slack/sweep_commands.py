"""Parsing `/tune sweep <dataset> epochs=2,4 …`: the grid's values are read one by one with
`/tune start`'s parsers, and each combination becomes a `StartArgs` through `parse_start`."""

from __future__ import annotations

import itertools
import shlex

from bot.domain.errors import UsageError
from bot.domain.sweeps import RANK_BY, SWEEP_KEYS, SweepArgs
from bot.slack.commands import OPTION_PARSERS, START_KEYS, _tokens, echo, parse_start

SWEEP_USAGE = (
    "`/tune sweep <dataset> epochs=2,4 learning_rate_multiplier=0.5,1 [adapter_size=4,8] "
    "[base_model=a,b] validation=10% [rank_by=win_rate|eval_loss|exact|similarity]`"
)


def parse_sweep(text: str) -> SweepArgs:
    """Every problem is reported at once; a sweep needs a validation set and two variants."""
    tokens = _tokens(text)
    if not tokens or "=" in tokens[0]:
        raise UsageError(f"Which dataset? Usage: {SWEEP_USAGE}")
    dataset, options = tokens[0], tokens[1:]
    grid: dict[str, tuple[str, ...]] = {}
    others: list[str] = []
    rank_by = RANK_BY[0]
    problems: list[str] = []
    for token in options:
        key, sep, value = token.partition("=")
        typed = key.lower().replace("-", "_")
        if sep and typed == "rank_by":
            rank_by = value.strip().lower()
            if rank_by not in RANK_BY:
                problems.append(f"`rank_by` must be one of {', '.join(RANK_BY)}, not `{echo(value)}`.")
            continue
        canonical = START_KEYS.get(typed) if sep else None
        if canonical in SWEEP_KEYS:
            assert canonical is not None
            values = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
            if canonical in grid:
                problems.append(f"`{canonical}` is given twice.")
            elif not values:
                problems.append(f"`{canonical}` needs at least one value, e.g. `{canonical}=2,4`.")
            grid[canonical] = values
            parse = OPTION_PARSERS.get(canonical)
            for one in values:
                try:
                    if parse is not None:
                        parse(one)
                except UsageError as exc:
                    problems.append(str(exc))
        else:
            others.append(token)
    try:
        base = parse_start(shlex.join([dataset, *others]))
    except UsageError as exc:
        problems.append(str(exc).split("\nOptions:")[0])
        base = None
    if base is not None and base.validation is None:
        problems.append("A sweep compares its variants on held-out examples: add `validation=10%`.")
    if problems or base is None:
        listed = "\n".join(f"• {problem}" for problem in problems)
        raise UsageError(f"{listed}\nUsage: {SWEEP_USAGE}")
    ordered = tuple((key, grid[key]) for key in SWEEP_KEYS if key in grid)
    keys = [key for key, _ in ordered]
    combos = [tuple(zip(keys, values, strict=True)) for values in itertools.product(*(v for _, v in ordered))]
    if len(combos) < 2:
        raise UsageError(
            "A sweep needs at least two variants: give an option several values, e.g. `epochs=2,4`. "
            f"Usage: {SWEEP_USAGE}"
        )
    starts = tuple(
        parse_start(shlex.join([dataset, *others, *(f"{key}={value}" for key, value in combo)]))
        for combo in combos
    )
    return SweepArgs(dataset, ordered, rank_by, starts, tuple(combos))
