"""The limits each backend puts on a dataset, as data: what the uploads of a tunebot running on
that backend are checked against. `TUNEBOT_DATASET_LIMITS` (JSON, Limits' field names) overrides
any of them, since Google changes them.

Sources (checked 2026-12-03):
- Vertex AI supervised tuning ("Prepare supervised fine-tuning data", limits table): 131,072
  tokens per training example (input and output together), 10M text-only examples, a 1 GB JSONL
  training file, a validation set of at most 5,000 examples, or 30 % of the training examples
  when it holds more than 1,000. The same for every tunable Gemini model.
- The Gemini API tuning service (ai.google.dev, "Fine-tuning with the Gemini API"): inputs of
  up to 40,000 characters, outputs of up to 5,000, at most 100,000 examples; pairs only.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from bot.datasets.core import Limits, ParsedDataset, Problem

GEMINI_LIMITS = Limits(
    backend="gemini",
    max_input_chars=40_000,
    max_output_chars=5_000,
    max_examples=100_000,
    max_file_bytes=64 * 1024 * 1024,
    conversations=False,
)

VERTEX_LIMITS = Limits(
    backend="vertex",
    max_input_chars=None,
    max_output_chars=None,
    max_example_tokens=131_072,
    max_examples=10_000_000,
    max_file_bytes=1024 * 1024 * 1024,
    max_validation_examples=5_000,
    max_validation_fraction=0.30,
    validation_fraction_above=1_000,
    conversations=True,
)

BACKEND_LIMITS = {"gemini": GEMINI_LIMITS, "vertex": VERTEX_LIMITS}

# Fields a setting may change (the rest say what a backend is, not how much it takes).
OVERRIDABLE = frozenset(
    f.name
    for f in dataclasses.fields(Limits)
    if f.name not in ("backend", "conversations", "max_problem_details")
)


class LimitsSettingError(ValueError):
    """`TUNEBOT_DATASET_LIMITS` is not a JSON object of known limits with sensible values."""


def parse_overrides(text: str | None) -> dict[str, Any]:
    """`{"max_examples": 500000, "max_example_tokens": 65536}` -> checked overrides."""
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LimitsSettingError(f"it is not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise LimitsSettingError('it must be a JSON object, e.g. {"max_examples": 500000}')
    unknown = sorted(set(value) - OVERRIDABLE)
    if unknown:
        known = ", ".join(sorted(OVERRIDABLE))
        raise LimitsSettingError(f"it has unknown limits {', '.join(unknown)}; known: {known}")
    for name, limit in value.items():
        if name == "max_validation_fraction":
            if limit is not None and (not isinstance(limit, int | float) or not 0 < limit <= 1):
                raise LimitsSettingError(f"{name} must be a fraction above 0 and at most 1, or null")
        elif limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise LimitsSettingError(f"{name} must be a whole number of 0 or more, or null")
    return value


def limits_for(backend: str, overrides: str | None = None, *, max_file_bytes: int | None = None) -> Limits:
    """The limits of `backend`'s uploads, with the settings' overrides applied."""
    limits = BACKEND_LIMITS.get(backend, GEMINI_LIMITS)
    if max_file_bytes is not None:
        limits = dataclasses.replace(limits, max_file_bytes=max_file_bytes)
    return dataclasses.replace(limits, **parse_overrides(overrides))


# Problems at a line or row that stop the reading of the whole file (the parser records them
# like a row's): skipping "the row" would leave out everything after it.
_STOPS_READING = (
    "the file ",  # not UTF-8 (at a line)
    "everything after it was swallowed",  # a quoted CSV value never closed
    "runs on for more than",  # a CSV record longer than max_line_bytes
    "a single value is larger than",  # a JSON value longer than max_line_bytes
)


def file_level_problems(parsed: ParsedDataset) -> list[Problem]:
    """The problems that keep a file from being stored even when bad rows may be skipped:
    those about the file (not UTF-8, too large, no header, too many examples, too few) and
    those that stopped the reading (a JSON document's syntax). The rest are a row's own."""
    document = parsed.format not in ("csv", "tsv", "jsonl")
    return [
        problem
        for problem in parsed.problems
        if problem.location == "file"
        or (document and problem.location.startswith("line "))
        or any(marker in problem.message for marker in _STOPS_READING)
    ]


def skipped_rows(parsed: ParsedDataset) -> int:
    """The rows a file's problems leave out: each listed problem's row once, and each problem
    past the listed ones (`Limits.max_problem_details`) as a row of its own."""
    listed = {problem.location for problem in parsed.problems}
    return len(listed) + max(parsed.problem_count - len(parsed.problems), 0)
