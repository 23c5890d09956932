"""What is in a dataset, gathered while it is validated (no second pass over the file).

`InsightBuilder.observe` is called by the Collector for every example it keeps (and
`observe_blank` for every field that is empty after trimming); `finish` turns what it saw
into a `DatasetInsight`, a plain value that is stored with the dataset as JSON.

Token counts are *estimates*, by a fixed rule that needs no network and gives the same
answer every time: `estimate_tokens(text) = ceil(UTF-8 bytes / 4)`, at least 1 for
non-empty text. Four bytes is Google's "about four characters per token" for English
(ASCII is one byte a character); text in scripts of two or three bytes a character
(Cyrillic, CJK) gets proportionally more tokens, as real tokenizers give it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from itertools import repeat
from operator import add, floordiv
from typing import Any

from bot.domain.types import TrainingExample

BYTES_PER_TOKEN = 4
NEAR_LIMIT_FRACTION = 0.9
ROWS_SHOWN = 5
PREVIEW_EXAMPLES = 3
PREVIEW_CHARS = 200
HISTOGRAM_BINS = 12
FEW_EXAMPLES = 100  # Google: fewer than 100 examples gives weak results
RECOMMENDED_LOW, RECOMMENDED_HIGH = 100, 500


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text`: ceil(UTF-8 bytes / 4), at least 1 for non-empty text."""
    if not text:
        return 0
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    return max(1, -(-size // BYTES_PER_TOKEN))


# What `measure` finds in an example: characters of its input side (the system instruction
# and every user turn) and of its output side (every model turn), the longest user and model
# turn, the estimated tokens of each side, and its turns (1 for a pair).
Measure = tuple[int, int, int, int, int, int, int]


def _tokens_of(lengths: list[int]) -> int:
    """Estimated tokens of ASCII texts of these lengths: the sum of ceil(length / 4) (in C)."""
    return sum(map(floordiv, map(add, lengths, repeat(BYTES_PER_TOKEN - 1)), repeat(BYTES_PER_TOKEN)))


def measure(example: TrainingExample) -> Measure:
    """Lengths and estimated tokens of an example, each text measured once (per-record path:
    the Collector checks the token limit with it and hands it to `InsightBuilder`)."""
    text_input, output, history, system = example.text_input, example.output, example.history, example.system
    if not history and system is None:
        n_in, n_out = len(text_input), len(output)
        if text_input.isascii() and output.isascii():
            tokens_in, tokens_out = -(-n_in // BYTES_PER_TOKEN), -(-n_out // BYTES_PER_TOKEN)
        else:
            tokens_in, tokens_out = estimate_tokens(text_input), estimate_tokens(output)
        return n_in, n_out, n_in, n_out, tokens_in, tokens_out, 1
    users, models = history[0::2], history[1::2]
    lengths_in = [len(text_input), *map(len, users)]
    lengths_out = [len(output), *map(len, models)]
    longest_in = max(lengths_in)
    if system:
        lengths_in.append(len(system))
    n_in, n_out = sum(lengths_in), sum(lengths_out)
    ascii_only = text_input.isascii() and output.isascii() and all(map(str.isascii, history))
    if ascii_only and (not system or system.isascii()):
        tokens_in, tokens_out = _tokens_of(lengths_in), _tokens_of(lengths_out)
    else:
        tokens_in = estimate_tokens(text_input) + sum(map(estimate_tokens, users))
        tokens_in += estimate_tokens(system) if system else 0
        tokens_out = estimate_tokens(output) + sum(map(estimate_tokens, models))
    return n_in, n_out, longest_in, max(lengths_out), tokens_in, tokens_out, len(users) + 1


@dataclass(frozen=True)
class Spread:
    """min / median / p95 / max of a list of lengths."""

    min: int = 0
    median: int = 0
    p95: int = 0
    max: int = 0

    @classmethod
    def of(cls, values: list[int]) -> Spread:
        if not values:
            return cls()
        ordered = sorted(values)
        return cls(ordered[0], _rank(ordered, 0.5), _rank(ordered, 0.95), ordered[-1])


def _rank(ordered: list[int], q: float) -> int:
    """Nearest-rank percentile (deterministic, always one of the values)."""
    index = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[index]


@dataclass(frozen=True)
class Histogram:
    """Counts of lengths in equal-width bins from 0 to `upper`. Bins are `width` whole numbers
    wide (1, 2, 5, 10, 20, 50, …): bin i counts the lengths i × width to (i + 1) × width − 1.
    A histogram stored before `width` existed has 0 there (and bins of `upper / len(counts)`)."""

    upper: int = 0
    counts: list[int] = field(default_factory=list)
    width: int = 0

    @classmethod
    def of(cls, values: list[int], bins: int = HISTOGRAM_BINS) -> Histogram:
        if not values:
            return cls()
        width = _whole_bin_width(max(values) + 1, bins)
        counts = [0] * (max(values) // width + 1)
        for value in values:
            counts[value // width] += 1
        return cls(width * len(counts), counts, width)


def _whole_bin_width(span: int, bins: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … that covers `span` whole numbers in `bins` bins."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale * bins >= span:
                return step * scale
        scale *= 10


@dataclass(frozen=True)
class RowList:
    """How many rows have some property, and where the first few are."""

    count: int = 0
    rows: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DatasetInsight:
    examples: int = 0
    input_chars: Spread = Spread()
    output_chars: Spread = Spread()
    input_tokens: Spread = Spread()
    output_tokens: Spread = Spread()
    total_tokens: int = 0
    input_histogram: Histogram = Histogram()
    output_histogram: Histogram = Histogram()
    exact_duplicates: RowList = RowList()
    conflicting_duplicates: RowList = RowList()
    near_input_limit: RowList = RowList()
    near_output_limit: RowList = RowList()
    empty_fields: RowList = RowList()
    preview: list[tuple[str, str]] = field(default_factory=list)
    max_input_chars: int = 0
    max_output_chars: int = 0
    # Conversations: turns per example (user turns, each answered: 1 for a pair), how many
    # examples have a system instruction, and the turns of each previewed example. For a
    # conversation "input" counts the system instruction and every user turn, "output" every
    # model turn; a preview shows its last user turn and the model turn answering it.
    turns: Spread = Spread()
    with_system: int = 0
    preview_turns: list[int] = field(default_factory=list)

    @property
    def conversational(self) -> bool:
        return self.turns.max > 1 or self.with_system > 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> DatasetInsight | None:
        if not text:
            return None
        try:
            raw = json.loads(text)
            return cls(
                examples=int(raw["examples"]),
                input_chars=Spread(**raw["input_chars"]),
                output_chars=Spread(**raw["output_chars"]),
                input_tokens=Spread(**raw["input_tokens"]),
                output_tokens=Spread(**raw["output_tokens"]),
                total_tokens=int(raw["total_tokens"]),
                input_histogram=Histogram(**raw["input_histogram"]),
                output_histogram=Histogram(**raw["output_histogram"]),
                exact_duplicates=RowList(**raw["exact_duplicates"]),
                conflicting_duplicates=RowList(**raw["conflicting_duplicates"]),
                near_input_limit=RowList(**raw["near_input_limit"]),
                near_output_limit=RowList(**raw["near_output_limit"]),
                empty_fields=RowList(**raw["empty_fields"]),
                preview=[(str(a), str(b)) for a, b in raw["preview"]],
                max_input_chars=int(raw.get("max_input_chars", 0)),
                max_output_chars=int(raw.get("max_output_chars", 0)),
                # Stored before conversations: every example was a pair, one turn.
                turns=Spread(**raw["turns"]) if "turns" in raw else _one_turn_each(int(raw["examples"])),
                with_system=int(raw.get("with_system", 0)),
                preview_turns=[int(n) for n in raw.get("preview_turns", [])],
            )
        except (ValueError, KeyError, TypeError):
            return None

    def training_tokens(self, epochs: int) -> int:
        """Estimated training tokens of a job: dataset tokens × epochs."""
        return self.total_tokens * max(epochs, 0)

    def guidance(self) -> list[str]:
        """Warnings against Google's guidance on dataset size."""
        if self.examples < FEW_EXAMPLES:
            return [
                f"only {self.examples:,} examples: with fewer than {FEW_EXAMPLES} expect weak results; "
                f"Google recommends {RECOMMENDED_LOW}–{RECOMMENDED_HIGH} to start"
            ]
        return []


class _Rows:
    def __init__(self) -> None:
        self.count = 0
        self.rows: list[str] = []

    def add(self, location: str) -> None:
        self.count += 1
        if len(self.rows) < ROWS_SHOWN:
            self.rows.append(location)

    def done(self) -> RowList:
        return RowList(self.count, list(self.rows))


class InsightBuilder:
    """Accumulates lengths, duplicates and near-limit rows example by example."""

    def __init__(self, max_input_chars: int | None, max_output_chars: int | None) -> None:
        # 0: no character limit (on Vertex AI the limit is in tokens), so nothing is near one.
        self._max_in = max_input_chars or 0
        self._max_out = max_output_chars or 0
        self._near_in = int(max_input_chars * NEAR_LIMIT_FRACTION) if max_input_chars else math.inf
        self._near_out = int(max_output_chars * NEAR_LIMIT_FRACTION) if max_output_chars else math.inf
        self.in_chars: list[int] = []
        self.out_chars: list[int] = []
        self.in_tokens: list[int] = []
        self.out_tokens: list[int] = []
        self.turns: list[int] = []
        self.with_system = 0
        # Where each input (for a conversation: all but the last model turn) was first seen,
        # with its output; and where each example whose input repeats was first seen.
        self._inputs: dict[Any, tuple[str, str]] = {}
        self._repeats: dict[tuple[Any, str], str] = {}
        self._exact = _Rows()
        self._conflicting = _Rows()
        self._near_input = _Rows()
        self._near_output = _Rows()
        self._empty = _Rows()
        self._preview: list[tuple[str, str]] = []
        self._preview_turns: list[int] = []

    def observe(self, location: str, text_input: str, output: str) -> None:
        """An input/output pair."""
        self.observe_example(location, TrainingExample(text_input, output))

    def observe_example(
        self, location: str, example: TrainingExample, measured: Measure | None = None
    ) -> None:
        """An example, and what `measure` found in it when the caller has it (the Collector does)."""
        n_in, n_out, longest_in, longest_out, in_tokens, out_tokens, turns = measured or measure(example)
        if turns == 1 and example.system is None:
            input_key: Any = example.text_input
        else:
            input_key = (example.system, example.history, example.text_input)
            if example.system:
                self.with_system += 1
        output = example.output
        self.in_chars.append(n_in)
        self.out_chars.append(n_out)
        self.in_tokens.append(in_tokens)
        self.out_tokens.append(out_tokens)
        self.turns.append(turns)
        # Near a per-field limit: the longest user (model) turn, the limit being per field.
        if longest_in > self._near_in:
            self._near_input.add(location)
        if longest_out > self._near_out:
            self._near_output.add(location)
        seen = self._inputs.get(input_key)
        if seen is None:
            self._inputs[input_key] = (location, output)
        elif output == seen[1]:
            self._exact.add(f"{location} (same as {seen[0]})")
        else:
            # The input was seen with another output; this output may still repeat an
            # example other than the first (those are kept by whole example, only here).
            first = self._repeats.setdefault((input_key, output), location)
            if first != location:
                self._exact.add(f"{location} (same as {first})")
            else:
                self._conflicting.add(f"{location} (same input as {seen[0]}, another output)")
        if len(self._preview) < PREVIEW_EXAMPLES:
            self._preview.append((_clip(example.text_input), _clip(output)))
            self._preview_turns.append(turns)

    def observe_blank(self, location: str, field_name: str) -> None:
        self._empty.add(f"{location} `{field_name}`")

    def finish(self) -> DatasetInsight:
        return DatasetInsight(
            examples=len(self.in_chars),
            input_chars=Spread.of(self.in_chars),
            output_chars=Spread.of(self.out_chars),
            input_tokens=Spread.of(self.in_tokens),
            output_tokens=Spread.of(self.out_tokens),
            total_tokens=sum(self.in_tokens) + sum(self.out_tokens),
            input_histogram=Histogram.of(self.in_chars),
            output_histogram=Histogram.of(self.out_chars),
            exact_duplicates=self._exact.done(),
            conflicting_duplicates=self._conflicting.done(),
            near_input_limit=self._near_input.done(),
            near_output_limit=self._near_output.done(),
            empty_fields=self._empty.done(),
            preview=list(self._preview),
            max_input_chars=self._max_in,
            max_output_chars=self._max_out,
            turns=Spread.of(self.turns),
            with_system=self.with_system,
            preview_turns=list(self._preview_turns) if any(n > 1 for n in self._preview_turns) else [],
        )


def _one_turn_each(examples: int) -> Spread:
    return Spread(1, 1, 1, 1) if examples else Spread()


def _clip(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= PREVIEW_CHARS else one_line[: PREVIEW_CHARS - 1] + "…"
