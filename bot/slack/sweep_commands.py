"""Parsing `/tune sweep <dataset> epochs=2,4 …` (and its form): the grid's values are read one
by one with `/tune start`'s parsers, and each combination becomes a `StartArgs` through
`parse_start`."""

from __future__ import annotations

import itertools
import math
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from bot.domain.errors import UsageError
from bot.domain.sweeps import RANK_BY, SWEEP_KEYS, SweepArgs
from bot.presentation.jobs import CHOOSE_DATASET_TEXT
from bot.slack.commands import (
    OPTION_PARSERS,
    START_KEYS,
    _tokens,
    check_display_name,
    echo,
    parse_start,
)

SWEEP_USAGE = (
    "`/tune sweep <dataset> epochs=2,4 learning_rate_multiplier=0.5,1 [adapter_size=4,8] "
    "[base_model=a,b] validation=10% [rank_by=win_rate|eval_loss|exact|similarity]`"
)

NEEDS_VALIDATION = "A sweep compares its variants on held-out examples: add `validation=10%`."
NEEDS_TWO_VARIANTS = "A sweep needs at least two variants: give an option several values, e.g. `epochs=2,4`."


def grid_values(key: str, typed: str) -> tuple[tuple[str, ...], list[str]]:
    """One option of the grid: its comma-separated values (as typed, each once) and every
    problem with them, read by `/tune start`'s parser of that option."""
    values = tuple(dict.fromkeys(v.strip() for v in typed.split(",") if v.strip()))
    problems = [] if values else [f"`{key}` needs at least one value, e.g. `{key}=2,4`."]
    parse = OPTION_PARSERS.get(key)
    for one in values:
        try:
            if parse is not None:
                parse(one)
        except UsageError as exc:
            problems.append(str(exc))
    return values, problems


def check_rank_by(typed: str) -> str:
    """What the sweep ranks by, one of RANK_BY."""
    rank_by = typed.strip().lower()
    if rank_by not in RANK_BY:
        raise UsageError(f"`rank_by` must be one of {', '.join(RANK_BY)}, not `{echo(typed)}`.")
    return rank_by


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
            try:
                rank_by = check_rank_by(value)
            except UsageError as exc:
                problems.append(str(exc))
            continue
        canonical = START_KEYS.get(typed) if sep else None
        if canonical in SWEEP_KEYS:
            assert canonical is not None
            if canonical in grid:
                problems.append(f"`{canonical}` is given twice.")
            grid[canonical], wrong = grid_values(canonical, value)
            problems += wrong
        else:
            others.append(token)
    try:
        base = parse_start(shlex.join([dataset, *others]))
    except UsageError as exc:
        problems.append(str(exc).split("\nOptions:")[0])
        base = None
    if base is not None and base.validation is None:
        problems.append(NEEDS_VALIDATION)
    if problems or base is None:
        listed = "\n".join(f"• {problem}" for problem in problems)
        raise UsageError(f"{listed}\nUsage: {SWEEP_USAGE}")
    ordered = tuple((key, grid[key]) for key in SWEEP_KEYS if key in grid)
    keys = [key for key, _ in ordered]
    combos = [tuple(zip(keys, values, strict=True)) for values in itertools.product(*(v for _, v in ordered))]
    if len(combos) < 2:
        raise UsageError(f"{NEEDS_TWO_VARIANTS} Usage: {SWEEP_USAGE}")
    starts = tuple(
        parse_start(shlex.join([dataset, *others, *(f"{key}={value}" for key, value in combo)]))
        for combo in combos
    )
    return SweepArgs(dataset, ordered, rank_by, starts, tuple(combos))


def sweep_from_form(values: Mapping[str, Any]) -> tuple[SweepArgs | None, dict[str, str]]:
    """The sweep form's fields (block id -> value; `base_model` a list) read as `/tune sweep`
    reads them typed: the sweep, or each field's problems (mrkdwn) on that field."""
    errors: dict[str, str] = {}
    options: list[str] = []
    counts: list[int] = []
    for key in SWEEP_KEYS:
        given = values.get(key)
        if not given:
            continue
        typed = ",".join(given) if isinstance(given, list) else str(given)
        found, problems = grid_values(key, typed)
        if problems:
            errors[key] = " ".join(problems)
        options.append(f"{key}={typed}")
        counts.append(len(found))
    checks: dict[str, Callable[[str], object]] = {
        "validation": OPTION_PARSERS["validation"],
        "name": check_display_name,
        "rank_by": check_rank_by,
    }
    for key, check in checks.items():
        field = values.get(key)
        if field is None:
            continue
        try:
            if check(str(field)) is None:  # `validation=none`
                errors[key] = NEEDS_VALIDATION
        except UsageError as exc:
            errors[key] = str(exc)
        options.append(f"{key}={field}")
    if values.get("validation") is None:
        errors["validation"] = NEEDS_VALIDATION
    dataset = values.get("dataset")
    if not dataset:
        errors["dataset"] = CHOOSE_DATASET_TEXT
    if not errors and math.prod(counts) < 2:
        given = [key for key in SWEEP_KEYS if values.get(key)] or ["epochs"]
        errors = dict.fromkeys(given, NEEDS_TWO_VARIANTS)
    if errors:
        return None, errors
    try:
        return parse_sweep(shlex.join([str(dataset), *options])), {}
    except UsageError as exc:  # left for the whole: the dataset's reference
        return None, {"dataset": str(exc).split("\nUsage:")[0]}
