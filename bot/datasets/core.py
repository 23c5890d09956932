"""The vocabulary of parsed datasets: limits, examples, problems and the result."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.datasets.insight import DatasetInsight


@dataclass(frozen=True)
class Limits:
    """What an uploaded dataset may hold (the Gemini tuning API's per-example limits)."""

    max_input_chars: int = 40_000
    max_output_chars: int = 5_000
    min_examples: int = 10
    max_examples: int = 100_000
    max_file_bytes: int = 64 * 1024 * 1024
    max_line_bytes: int = 8 * 1024 * 1024
    # Problems kept in detail; any beyond are only counted.
    max_problem_details: int = 1_000


@dataclass(frozen=True)
class Example:
    text_input: str
    output: str


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be stored, worded for the person who uploaded it.

    `location` is "row 7" (CSV/TSV, counted like a spreadsheet: the header is row 1),
    "line 12" (JSON Lines, or a JSON syntax error), "example 3" (JSON) or "file".
    """

    location: str
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.location == "file":
            text = self.message
            return text[:1].upper() + text[1:]
        if self.field:
            return f"{self.location}, `{self.field}`: {self.message}"
        return f"{self.location}: {self.message}"


@dataclass
class ParsedDataset:
    examples: list[Example]
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

    @property
    def ok(self) -> bool:
        return not self.problems and self.problem_count == 0 and bool(self.examples)


def plural(count: int, word: str, plural_word: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack treats as markup in any text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    return "`" + mrkdwn_escape(text.replace("`", "'")) + "`"


def format_problems(parsed: ParsedDataset, max_shown: int = 10) -> str:
    """Slack mrkdwn explaining why a file was refused (or, if it was not, that it is fine)."""
    name = _code(parsed.filename or "the file")
    total = max(parsed.problem_count, len(parsed.problems))
    if total == 0:
        if parsed.examples:
            return f"{name} looks good: {plural(len(parsed.examples), 'example')}."
        return f"{name} was not stored: it holds no examples."
    lines = [f"{name} was not stored: {plural(total, 'problem')}"]
    shown = parsed.problems[: max(max_shown, 0)]
    lines.extend(f"• {mrkdwn_escape(str(problem))}" for problem in shown)
    rest = total - len(shown)
    if rest > 0:
        lines.append(f"…and {plural(rest, 'more problem')}")
    return "\n".join(lines)
