"""Collector: gathers examples, problems and warnings as a format reader hands it records.

Each format reader (bot.datasets.jsonl, .jsondoc, .delimited) calls `record` (for JSON
objects) or `add` (for a CSV/TSV row) and reports problems through `problem` / `fatal`.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from bot.datasets.chat import openai_record, vertex_record
from bot.datasets.core import Limits, Problem, ProblemGroup, ShapeCounter
from bot.datasets.insight import InsightBuilder, measure
from bot.datasets.wording import (
    CHAT_MESSAGE,
    CHAT_NORMS,
    CONVERSATION_NORMS,
    INPUT_NAMES,
    INPUT_NORMS,
    OUTPUT_NAMES,
    OUTPUT_NORMS,
    SYSTEM_NORMS,
    normalise_key,
    quoted_names,
    type_name,
)
from bot.domain.types import TrainingExample


class Fatal(Exception):
    """Stops parsing; the problem has already been recorded."""


# What a JSON `\\ud800` escape decodes to on its own (UTF-8 text can never hold one).
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Kinds of problem told apart (each counted, with its first rows); any beyond are only counted.
MAX_PROBLEM_GROUPS = 200
# System instructions kept as one string each (most files repeat one on every line).
MAX_SHARED_SYSTEMS = 64

# How a record shape is read: ("pair", input key, output key, system key),
# ("vertex", contents key, system key, None) or ("openai", messages key, None, None).
RecordKeys = tuple[str, str | None, str | None, str | None]


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
        self.groups: dict[tuple[str | None, str], ProblemGroup] = {}
        self.warnings: list[str] = []
        self.records = 0
        self.unknown_keys: Counter[str] = Counter()
        self.used_input: str | None = None
        self.used_output: str | None = None
        self.top_small: dict[str, Any] = {}
        self.insight = InsightBuilder(limits.max_input_chars, limits.max_output_chars)
        # OpenAI assistant messages with a `weight` (not carried over), and the chat format seen.
        self.weighted = 0
        self.chat_format: str | None = None
        # Records usually share one set of keys: resolve which keys to read once per set.
        self._key_cache: dict[tuple[str, ...], RecordKeys] = {}
        self._systems: dict[str, str] = {}
        # Whether a text may hold a lone surrogate: only a JSON `\\u` escape makes one (UTF-8
        # text cannot), so a JSON Lines reader clears this for a line without `\\u`.
        self.maybe_surrogates = True

    # ---- problems -------------------------------------------------------------------------

    def problem(
        self,
        location: str,
        field: str | None,
        message: str,
        *,
        turn: str | None = None,
        group: str | None = None,
    ) -> None:
        self.problem_count += 1
        problem = Problem(location, field, message, turn, group)
        if len(self.problems) < self.limits.max_problem_details:
            self.problems.append(problem)
        key = problem.group_key
        kind = self.groups.get(key)
        if kind is None:
            if len(self.groups) >= MAX_PROBLEM_GROUPS:
                return
            kind = self.groups[key] = ProblemGroup(key[0], key[1])
        kind.add(problem)

    def fatal(self, location: str, field: str | None, message: str) -> Fatal:
        self.problem(location, field, message)
        return Fatal()

    def reset_problems(self) -> None:
        self.problems.clear()
        self.groups.clear()
        self.problem_count = 0

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
        return self._checked(location, field, None, value, limit)

    def _checked(
        self, location: str, field: str | None, turn: str | None, value: str, limit: int | None
    ) -> str | None:
        """Text that is not blank: no lone surrogate, within the character limit."""
        surrogate = LONE_SURROGATE.search(value) if self.maybe_surrogates else None
        if surrogate:
            self.problem(
                location,
                field,
                f"holds the escape `\\u{ord(surrogate.group()):04x}`, half of a UTF-16 surrogate pair "
                "without its other half: that is not a character, so the text cannot be sent "
                "(write the character itself, or remove the escape)",
                turn=turn,
                group="holds an escape `\\ud800`–`\\udfff`, half of a UTF-16 surrogate pair without its "
                "other half (write the character itself, or remove the escape)",
            )
            return None
        if limit is not None and len(value) > limit:
            self.problem(
                location,
                field,
                f"is {len(value):,} characters; the limit is {limit:,}",
                turn=turn,
                group=f"is longer than the {limit:,}-character limit",
            )
            return None
        return value

    def blank_turn(self, location: str, turn: str, text: str) -> bool:
        """True (and a problem) when a conversation turn has no text."""
        if text and not text.isspace():
            return False
        self.insight.observe_blank(location, turn)
        self.problem(
            location,
            None,
            "is empty; give every turn its text (or remove the turn and the one answering it)"
            if not text
            else "is empty (only whitespace); give every turn its text",
            turn=turn,
        )
        return True

    @property
    def check_turns(self) -> bool:
        """Whether turn texts need `turns_fine` (a character limit, or a possible lone surrogate)."""
        return (
            self.maybe_surrogates
            or self.limits.max_input_chars is not None
            or (self.limits.max_output_chars is not None)
        )

    def turns_fine(self, location: str, texts: list[str], label: str, offset: int = 0) -> bool:
        """The turns' texts (user, model, user, …) within the per-field character limits (user
        turns: the input limit, model turns: the output limit) and free of lone surrogates.
        `label` and `offset` name a turn: "turn 3", "message 4" (after one system message)."""
        fine = True
        limits = (self.limits.max_input_chars, self.limits.max_output_chars)
        for index, text in enumerate(texts):
            if (
                text
                and self._checked(location, None, f"{label} {index + 1 + offset}", text, limits[index % 2])
                is None
            ):
                fine = False
        return fine

    def system_text(self, location: str, field: str, value: Any) -> tuple[bool, str | None]:
        """(fine, the system instruction): an empty one is none; a bad one is a problem."""
        if value is None:
            return True, None
        if not isinstance(value, str):
            self.problem(location, field, f"is {type_name(value)}, not text")
            return False, None
        if not value or value.isspace():
            return True, None
        shared = self._systems.get(value)
        if shared is not None:
            return True, shared
        checked = self._checked(location, field, None, value, self.limits.max_input_chars)
        if checked is None:
            return False, None
        if len(self._systems) < MAX_SHARED_SYSTEMS:
            self._systems[checked] = checked
        return True, checked

    def add(
        self,
        location: str,
        in_field: str,
        text_input: Any,
        out_field: str,
        output: Any,
        system: str | None = None,
    ) -> None:
        good_in = self.check_text(location, in_field, text_input, self.limits.max_input_chars)
        good_out = self.check_text(location, out_field, output, self.limits.max_output_chars)
        if good_in is not None and good_out is not None:
            self.accept(location, TrainingExample(good_in, good_out, (), system))

    def accept(self, location: str, example: TrainingExample) -> bool:
        """An example whose texts passed every check: checked against the per-example token
        limit, then counted, observed, and kept (unless only validating). False: refused."""
        measured = measure(example)
        tokens = measured[4] + measured[5]
        limit = self.limits.max_example_tokens
        if limit is not None and tokens > limit:
            self.problem(
                location,
                None,
                f"is about {tokens:,} tokens (estimated as bytes ÷ 4); the limit is {limit:,} per example",
                group=f"is over the limit of {limit:,} tokens per example (estimated as bytes ÷ 4)",
            )
            return False
        self.accepted += 1
        self.shape.add(example, tokens)
        if self.keep_examples:
            self.examples.append(example)
        self.insight.observe_example(location, example, measured)
        return True

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

    def _record_keys(self, record: dict[str, Any]) -> RecordKeys:
        if self.input_column is None and self.output_column is None:
            by_norm: dict[str, str] = {}
            for key in record:
                by_norm.setdefault(normalise_key(key), key)
            for norm, kind in CONVERSATION_NORMS.items():
                if norm in by_norm:
                    sys_key = None
                    if kind == "vertex":
                        sys_key = next((by_norm[n] for n in SYSTEM_NORMS if n in by_norm), None)
                    return kind, by_norm[norm], sys_key, None
        return (
            "pair",
            self.pick_key(record, self.input_column, INPUT_NORMS),
            self.pick_key(record, self.output_column, OUTPUT_NORMS),
            self.pick_key(record, None, SYSTEM_NORMS),
        )

    def record(self, location: str, record: Any) -> None:
        self.count_record()
        if type(record) is not dict:
            self.problem(
                location,
                None,
                f'is {type_name(record)}, not an object like `{{"text_input": "…", "output": "…"}}`',
            )
            return
        shape = tuple(record)
        keys = self._key_cache.get(shape)
        if keys is None:
            keys = self._record_keys(record)
            if len(self._key_cache) < 256:
                self._key_cache[shape] = keys
        kind, first, second, third = keys
        if kind != "pair":
            assert first is not None
            if len(record) > (1 if second is None else 2):
                for key in record:
                    if key != first and key != second:
                        self.unknown_keys[key] += 1
            self.chat_format = self.chat_format or kind
            if kind == "vertex":
                vertex_record(self, location, record, first, second)
            else:
                openai_record(self, location, record, first)
            return
        in_key, out_key, sys_key = first, second, third
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
        if len(record) > (2 if sys_key is None else 3):
            for key in record:
                if key != in_key and key != out_key and key != sys_key:
                    self.unknown_keys[key] += 1
        self.used_input = self.used_input or in_key
        self.used_output = self.used_output or out_key
        system: str | None = None
        if sys_key is not None:
            value = record[sys_key]
            if isinstance(value, dict) and "parts" in value:  # Vertex AI's Content object
                parts = value["parts"]
                if isinstance(parts, list) and all(
                    isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts
                ):
                    value = "".join(p["text"] for p in parts)
            fine, system = self.system_text(location, sys_key, value)
            if not fine:
                # Still check the pair, so that every problem of the row is said at once.
                self.check_text(location, in_key, record[in_key], self.limits.max_input_chars)
                self.check_text(location, out_key, record[out_key], self.limits.max_output_chars)
                return
        self.add(location, in_key, record[in_key], out_key, record[out_key], system)
