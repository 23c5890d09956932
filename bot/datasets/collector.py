"""Collector: gathers examples, problems and warnings as a format reader hands it records.

Each format reader (bot.datasets.jsonl, .jsondoc, .delimited) calls `record` (for JSON
objects) or `add` (for a CSV/TSV row) and reports problems through `problem` / `fatal`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bot.datasets.core import Limits, Problem, ShapeCounter
from bot.datasets.insight import InsightBuilder
from bot.datasets.wording import (
    CHAT_MESSAGE,
    CHAT_NORMS,
    INPUT_NAMES,
    INPUT_NORMS,
    OUTPUT_NAMES,
    OUTPUT_NORMS,
    normalise_key,
    quoted_names,
    type_name,
)
from bot.domain.types import TrainingExample


class Fatal(Exception):
    """Stops parsing; the problem has already been recorded."""


# What a JSON `\\ud800` escape decodes to on its own (UTF-8 text can never hold one).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Collector:
    def __init__(
        self,
        filename: str,
        limits: Limits,
        input_column: str | None,
        output_column: str | None,
        *,
        keep_examples: bool = True,
    ):
        self.filename = filename
        self.limits = limits
        self.input_column = input_column
        self.output_column = output_column
        self.examples: list[TrainingExample] = []
        self.keep_examples = keep_examples
        self.accepted = 0
        self.shape = ShapeCounter()
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.warnings: list[str] = []
        self.records = 0
        self.unknown_keys: Counter[str] = Counter()
        self.used_input: str | None = None
        self.used_output: str | None = None
        self.top_small: dict[str, Any] = {}
        self.insight = InsightBuilder(limits.max_input_chars, limits.max_output_chars)
        # Records usually share one set of keys: resolve the input/output key once per set.
        self._key_cache: dict[tuple[str, ...], tuple[str | None, str | None]] = {}

    # ---- problems -------------------------------------------------------------------------

    def problem(self, location: str, field: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.limits.max_problem_details:
            self.problems.append(Problem(location, field, message))

    def fatal(self, location: str, field: str | None, message: str) -> Fatal:
        self.problem(location, field, message)
        return Fatal()

    def count_record(self) -> None:
        self.records += 1
        if self.records > self.limits.max_examples:
            raise self.fatal(
                "file",
                None,
                f"the file has more than {self.limits.max_examples:,} examples, the most one dataset may "
                "hold; split it or trim it",
            )

    # ---- values ---------------------------------------------------------------------------

    def check_text(self, location: str, field: str, value: Any, limit: int | None) -> str | None:
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, int | float) and not isinstance(value, bool):
                hint = f'; the API needs text, so write it in quotes: "{value}"'
            self.problem(location, field, f"is {type_name(value)}, not text{hint}")
            return None
        if not value.strip():
            self.insight.observe_blank(location, field)
            self.problem(location, field, "is empty" if not value else "is empty (only whitespace)")
            return None
        surrogate = LONE_SURROGATE.search(value)
        if surrogate:
            self.problem(
                location,
                field,
                f"holds the escape `\\u{ord(surrogate.group()):04x}`, half of a UTF-16 surrogate pair "
                "without its other half: that is not a character, so the text cannot be sent "
                "(write the character itself, or remove the escape)",
            )
            return None
        if limit is not None and len(value) > limit:
            self.problem(location, field, f"is {len(value):,} characters; the limit is {limit:,}")
            return None
        return value

    def add(self, location: str, in_field: str, text_input: Any, out_field: str, output: Any) -> None:
        good_in = self.check_text(location, in_field, text_input, self.limits.max_input_chars)
        good_out = self.check_text(location, out_field, output, self.limits.max_output_chars)
        if good_in is not None and good_out is not None:
            self.accept(location, TrainingExample(good_in, good_out))

    def accept(self, location: str, example: TrainingExample) -> None:
        """An example that passed every check: counted, observed, and kept (unless only
        validating)."""
        self.accepted += 1
        self.shape.add(example)
        if self.keep_examples:
            self.examples.append(example)
        self.insight.observe(location, example.text_input, example.output)

    # ---- JSON records ---------------------------------------------------------------------

    def pick_key(self, record: dict[str, Any], explicit: str | None, norms: tuple[str, ...]) -> str | None:
        if explicit is not None:
            if explicit in record:
                return explicit
            for key in record:
                if key.lower() == explicit.lower():
                    return key
            return None
        by_norm: dict[str, str] = {}
        for key in record:
            by_norm.setdefault(normalise_key(key), key)
        for norm in norms:
            if norm in by_norm:
                return by_norm[norm]
        return None

    def record(self, location: str, record: Any) -> None:
        self.count_record()
        if not isinstance(record, dict):
            self.problem(
                location,
                None,
                f'is {type_name(record)}, not an object like `{{"text_input": "…", "output": "…"}}`',
            )
            return
        shape = tuple(record)
        keys = self._key_cache.get(shape)
        if keys is None:
            keys = (
                self.pick_key(record, self.input_column, INPUT_NORMS),
                self.pick_key(record, self.output_column, OUTPUT_NORMS),
            )
            if len(self._key_cache) < 256:
                self._key_cache[shape] = keys
        in_key, out_key = keys
        if in_key is None or out_key is None:
            for key in record:
                if normalise_key(key) in CHAT_NORMS:
                    self.problem(location, None, CHAT_MESSAGE.format(key=key))
                    return
            found = ", ".join(f"`{k}`" for k in list(record)[:8]) or "none"
            if in_key is None:
                wanted = (
                    f"`{self.input_column}`" if self.input_column else f"one of {quoted_names(INPUT_NAMES)}"
                )
                self.problem(location, None, f"has no input field (keys found: {found}); expected {wanted}")
            if out_key is None:
                wanted = (
                    f"`{self.output_column}`"
                    if self.output_column
                    else f"one of {quoted_names(OUTPUT_NAMES)}"
                )
                self.problem(location, None, f"has no output field (keys found: {found}); expected {wanted}")
            return
        if len(record) > 2:
            for key in record:
                if key != in_key and key != out_key:
                    self.unknown_keys[key] += 1
        self.used_input = self.used_input or in_key
        self.used_output = self.used_output or out_key
        self.add(location, in_key, record[in_key], out_key, record[out_key])
