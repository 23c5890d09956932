"""The vocabulary of parsed datasets: limits, examples, problems and the result."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.datasets.insight import DatasetInsight, estimate_tokens
from bot.domain.types import ExampleShape, TrainingExample


@dataclass(frozen=True)
class Limits:
    """What an uploaded dataset may hold on one backend (bot.datasets.limits holds the table,
    which settings can override). The default is the Gemini API's: today's limits."""

    backend: str = "gemini"  # bot.domain names: "gemini" or "vertex"
    # Per-field character limits (the Gemini API's); None: none.
    max_input_chars: int | None = 40_000
    max_output_chars: int | None = 5_000
    # Tokens per example, every turn and the system instruction together (Vertex AI's), as
    # estimated locally (bytes / 4); None: none.
    max_example_tokens: int | None = None
    min_examples: int = 10
    max_examples: int = 100_000
    max_file_bytes: int = 64 * 1024 * 1024
    max_line_bytes: int = 8 * 1024 * 1024
    # A validation set's size: at most this many examples (None: no limit)…
    max_validation_examples: int | None = None
    # …and, when it is larger than `validation_fraction_above` examples, at most this share of
    # the training examples (Vertex: 5,000, or 30 % of training above 1,000).
    max_validation_fraction: float | None = None
    validation_fraction_above: int = 0
    # Whether the backend takes system instructions and multi-turn examples at /tune start.
    conversations: bool = False
    # Problems kept in detail; any beyond are only counted.
    max_problem_details: int = 1_000


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be stored, worded for the person who uploaded it.

    `location` is "row 7" (CSV/TSV, counted like a spreadsheet: the header is row 1),
    "line 12" (JSON Lines, or a JSON syntax error), "example 3" (JSON) or "file".
    `turn` says where inside a conversation ("turn 2" of Vertex AI's `contents`, "message 3"
    of OpenAI's `messages`). `group` is the wording used when the same problem is listed for
    many rows at once (e.g. "is longer than the 5,000-character limit" for rows whose own
    message names their length); None: `message`.
    """

    location: str
    field: str | None
    message: str
    turn: str | None = None
    group: str | None = None

    def __str__(self) -> str:
        if self.location == "file":
            text = self.message
            return text[:1].upper() + text[1:]
        where = f"{self.location}, {self.turn}" if self.turn else self.location
        if self.field:
            return f"{where}, `{self.field}`: {self.message}"
        return f"{where}: {self.message}"

    @property
    def group_key(self) -> tuple[str | None, str]:
        return self.field, self.group or self.message


# Locations listed for a problem that many rows share, before "and N more".
GROUP_LOCATIONS = 5


@dataclass
class ProblemGroup:
    """Every problem of one kind (same field, same wording), counted, with the first few."""

    field: str | None
    message: str
    count: int = 0
    first: list[Problem] = dataclasses.field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.first) < GROUP_LOCATIONS:
            self.first.append(problem)

    def __str__(self) -> str:
        if self.count == 1 and self.first:
            return str(self.first[0])
        where = _locations(self.first, self.count)
        if self.field:
            return f"{where}: `{self.field}` {self.message}"
        return f"{where}: {self.message}"


def _locations(first: list[Problem], count: int) -> str:
    """ "rows 2, 3, 4, 5, 6 and 9,995 more", "lines 7 (turn 2) and 9 (turn 4)"."""
    words = {p.location.split(" ", 1)[0] for p in first}
    same_kind = len(words) == 1 and all(" " in p.location for p in first)
    if same_kind:
        word = words.pop()
        items = [p.location.split(" ", 1)[1] + (f" ({p.turn})" if p.turn else "") for p in first]
        head = f"{word}s "
    else:
        items = [f"{p.location}, {p.turn}" if p.turn else p.location for p in first]
        head = ""
    rest = count - len(items)
    if rest > 0:
        return f"{head}{', '.join(items)} and {rest:,} more"
    if len(items) == 1:
        return head + items[0]
    return f"{head}{', '.join(items[:-1])} and {items[-1]}"


def group_problems(problems: Iterable[Problem]) -> list[ProblemGroup]:
    """Problems of the same kind together, in the order each kind first occurs."""
    groups: dict[tuple[str | None, str], ProblemGroup] = {}
    for problem in problems:
        key = problem.group_key
        group = groups.get(key)
        if group is None:
            group = groups[key] = ProblemGroup(key[0], key[1])
        group.add(problem)
    return list(groups.values())


@dataclass
class ParsedDataset:
    examples: list[TrainingExample]
    problems: list[Problem]
    format: str
    sha256: str
    warnings: list[str] = field(default_factory=list)
    input_column: str | None = None
    output_column: str | None = None
    filename: str = ""
    # Every problem found, including those past `Limits.max_problem_details` not kept in `problems`.
    problem_count: int = 0
    size_bytes: int = 0
    # What is in the file (lengths, duplicates, rows near the limits), gathered while parsing.
    insight: DatasetInsight | None = None
    # What the examples hold beyond pairs, and how many were accepted (kept in `examples`
    # unless parse_dataset was told not to keep them: a gs:// file is only validated).
    shape: ExampleShape = field(default_factory=ExampleShape)
    example_count: int = 0
    # Every problem, grouped by kind (counted past `Limits.max_problem_details` too), in the
    # order each kind first occurs; empty: group `problems`.
    problem_groups: list[ProblemGroup] = field(default_factory=list)
    # "vertex" or "openai" when the file holds conversations in that format, else None.
    chat_format: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.problem_count == 0 and self.example_count > 0


def example_tokens(example: TrainingExample) -> int:
    """The example's estimated tokens, every turn and the system instruction together (what
    Vertex's per-example limit counts)."""
    total = estimate_tokens(example.text_input) + estimate_tokens(example.output)
    for text in example.history:
        total += estimate_tokens(text)
    if example.system:
        total += estimate_tokens(example.system)
    return total


class ShapeCounter:
    """Counts what examples hold beyond pairs as they are accepted (bot.domain ExampleShape)."""

    def __init__(self) -> None:
        self.multi_turn = 0
        self.with_system = 0
        self.max_tokens: int | None = None
        self._systems: Counter[str] = Counter()

    def add(self, example: TrainingExample, tokens: int | None = None) -> None:
        if example.history:
            self.multi_turn += 1
        if example.system:
            self.with_system += 1
            if len(self._systems) < 1_000 or example.system in self._systems:
                self._systems[example.system] += 1
        if tokens is None:
            tokens = example_tokens(example)
        if self.max_tokens is None or tokens > self.max_tokens:
            self.max_tokens = tokens

    def finish(self) -> ExampleShape:
        common = self._systems.most_common(1)[0][0] if self._systems else None
        return ExampleShape(self.multi_turn, self.with_system, common, self.max_tokens)


def shape_of(examples: Iterable[TrainingExample]) -> ExampleShape:
    counter = ShapeCounter()
    for example in examples:
        counter.add(example)
    return counter.finish()


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack treats as markup in any text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + mrkdwn_escape(text.replace("`", "'")) + "`"


def format_problems(parsed: ParsedDataset, max_shown: int = 10) -> str:
    """Slack mrkdwn explaining why a file was refused (or, if it was not, that it is fine).

    Problems of one kind are said once, with their count and first rows ("rows 2, 3, 4, 5, 6
    and 9,995 more: `output` is empty"); at most `max_shown` kinds are listed."""
    name = _code(parsed.filename or "the file")
    total = max(parsed.problem_count, len(parsed.problems))
    if total == 0:
        if parsed.examples:
            return f"{name} looks good: {plural(len(parsed.examples), 'example')}."
        return f"{name} was not stored: it holds no examples."
    lines = [f"{name} was not stored: {plural(total, 'problem')}"]
    groups = parsed.problem_groups or group_problems(parsed.problems)
    shown = groups[: max(max_shown, 0)]
    lines.extend(f"• {mrkdwn_escape(str(group))}" for group in shown)
    rest = total - sum(group.count for group in shown)
    if rest > 0:
        lines.append(f"…and {plural(rest, 'more problem')}")
    return "\n".join(lines)
