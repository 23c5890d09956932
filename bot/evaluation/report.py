"""An evaluation's result: one row per held-out example and the summary of both models.

The CSV (`EvalReport.to_csv`) is safe to open in a spreadsheet, as OWASP advises against CSV
injection: every field is quoted, and a text cell that would start a formula (its first
character `=`, `+`, `-`, `@`, a tab or a carriage return, after any `'`) gets one `'` in front,
so the spreadsheet shows it as text (a plain number such as `-3` or `+1.5` is left as it is:
a spreadsheet reads it as that number and runs nothing). A program reading the file gets the
original cell back by removing that one `'` again: `original_cell`, or `read_evaluation_csv`
for the whole file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field

from bot.evaluation.judge import outcomes, win_rate
from bot.evaluation.score import exact_match, similarity

# A cell a spreadsheet would run: a formula start, after quotes that would hide one added `'`.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def spreadsheet_safe(cell: str) -> str:
    """`cell` as text a spreadsheet shows and never runs: `=1+1` -> `'=1+1`."""
    if _FORMULA_START.match(cell) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def original_cell(cell: str) -> str:
    """The cell as it was before `spreadsheet_safe`: `'=1+1` -> `=1+1`; `'plain` stays."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


def read_evaluation_csv(content: bytes) -> list[dict[str, str]]:
    """An evaluation CSV read back, one dict per row by column name, every cell as it was."""
    reader = csv.DictReader(io.StringIO(content.decode("utf-8")))
    return [{key: original_cell(value) for key, value in row.items()} for row in reader]


@dataclass(frozen=True)
class EvalRow:
    text_input: str
    expected: str
    base: str
    tuned: str
    base_error: str | None = None
    tuned_error: str | None = None
    # The example's number in the set it was drawn from (1-based); None in reports stored
    # before it was kept (their CSV numbers the rows in order).
    number: int | None = None
    # The judge's outcome for the tuned model ("win", "tie", "loss"; None: not judged, with
    # `judge_error` when the judge failed on it) and its reason (bot.evaluation.judge).
    judged: str | None = None
    judge_reason: str | None = None
    judge_error: str | None = None

    @property
    def base_exact(self) -> bool:
        return self.base_error is None and exact_match(self.expected, self.base)

    @property
    def tuned_exact(self) -> bool:
        return self.tuned_error is None and exact_match(self.expected, self.tuned)

    @property
    def base_similarity(self) -> float:
        return 0.0 if self.base_error is not None else similarity(self.expected, self.base)

    @property
    def tuned_similarity(self) -> float:
        return 0.0 if self.tuned_error is not None else similarity(self.expected, self.tuned)


REPORT_COLUMNS = (
    "row",
    "input",
    "expected",
    "base_answer",
    "tuned_answer",
    "base_exact",
    "tuned_exact",
    "base_similarity",
    "tuned_similarity",
    "base_error",
    "tuned_error",
    "judge_outcome",
    "judge_reason",
    "judge_error",
)


def row_cells(row: EvalRow, index: int) -> dict[str, object]:
    """One evaluation row's CSV cells by column name, every text neutralised for spreadsheets
    (`index`: its place in the report, the row number when the row has none of its own)."""
    return {
        "row": row.number if row.number is not None else index,
        "input": spreadsheet_safe(row.text_input),
        "expected": spreadsheet_safe(row.expected),
        "base_answer": spreadsheet_safe(row.base),
        "tuned_answer": spreadsheet_safe(row.tuned),
        "base_exact": int(row.base_exact),
        "tuned_exact": int(row.tuned_exact),
        "base_similarity": f"{row.base_similarity:.3f}",
        "tuned_similarity": f"{row.tuned_similarity:.3f}",
        "base_error": spreadsheet_safe(row.base_error or ""),
        "tuned_error": spreadsheet_safe(row.tuned_error or ""),
        "judge_outcome": row.judged or "",
        "judge_reason": spreadsheet_safe(row.judge_reason or ""),
        "judge_error": spreadsheet_safe(row.judge_error or ""),
    }


@dataclass(frozen=True)
class EvalReport:
    tuned_model: str
    base_model: str
    rows: list[EvalRow] = field(default_factory=list)
    # Examples there were in all (only `len(rows)` of them were run).
    available: int = 0
    # The seed of a random sample of `available` (None: the first examples, in order).
    seed: int | None = None
    # The model that judged the rows pairwise (None: no judge ran; reports stored before).
    judge_model: str | None = None

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def outcomes(self) -> tuple[int, int, int, int]:
        """(wins, ties, losses, unjudged rows) of the tuned model against the base model."""
        return outcomes([r.judged for r in self.rows])

    @property
    def win_rate(self) -> float | None:
        """(wins + ½ ties) / judged rows; None when no judge ran or no row was judged."""
        wins, ties, losses, _unjudged = self.outcomes
        return win_rate(wins, ties, losses) if self.judge_model else None

    def judged_examples(self, count: int = 3) -> list[EvalRow]:
        """Rows whose judgement to show with its reason: a win, a loss, a tie, then more."""
        picked: list[EvalRow] = []
        for wanted in ("win", "loss", "tie"):
            picked.extend([r for r in self.rows if r.judged == wanted and r.judge_reason][:1])
        rest = [r for r in self.rows if r.judged is not None and r not in picked]
        return (picked + rest)[:count]

    def _mean(self, values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    @property
    def base_exact_rate(self) -> float:
        return self._mean([1.0 if r.base_exact else 0.0 for r in self.rows])

    @property
    def tuned_exact_rate(self) -> float:
        return self._mean([1.0 if r.tuned_exact else 0.0 for r in self.rows])

    @property
    def base_mean_similarity(self) -> float:
        return self._mean([r.base_similarity for r in self.rows])

    @property
    def tuned_mean_similarity(self) -> float:
        return self._mean([r.tuned_similarity for r in self.rows])

    @property
    def errors(self) -> int:
        return sum((r.base_error is not None) + (r.tuned_error is not None) for r in self.rows)

    def showcase(self, count: int = 3) -> list[EvalRow]:
        """Rows to show side by side: where tuning changed the outcome most, then the rest."""
        ranked = sorted(
            range(len(self.rows)),
            key=lambda i: (-(self.rows[i].tuned_similarity - self.rows[i].base_similarity), i),
        )
        return [self.rows[i] for i in ranked[:count]]

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(REPORT_COLUMNS)
        for index, row in enumerate(self.rows, start=1):
            cells = row_cells(row, index)
            writer.writerow([cells[column] for column in REPORT_COLUMNS])
        return out.getvalue().encode("utf-8")

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EvalReport:
        raw = json.loads(text)
        return cls(
            tuned_model=str(raw["tuned_model"]),
            base_model=str(raw["base_model"]),
            rows=[EvalRow(**row) for row in raw["rows"]],
            available=int(raw.get("available", 0)),
            seed=raw.get("seed"),
            judge_model=raw.get("judge_model"),
        )
