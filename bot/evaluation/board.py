"""Several tuned models scored on the same examples: a leaderboard (`/tune eval a,b,c <dataset>`).

Each model's `EvalReport` holds its rows against its own base model (the base answers are
shared between the models on the same base). The best model is the one with the highest
win rate against its base model, then the highest mean similarity, then exact match; with
no judge, similarity then exact match. The CSV holds one line per example and model, every
answer and every score, every text cell through `spreadsheet_safe`.

While a multi-model `/tune eval` waits to run, its `eval_request.report_json` holds the plan
(`{"plan": [[model, base_model], ...]}`); once evaluated, the board (`{"board": [...]}`);
a single-model request holds an `EvalReport` as it always did.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from bot.evaluation.report import EvalReport, row_cells, spreadsheet_safe

MAX_MODELS = 8


# One line per example and model (the judge's outcome and reason before the errors).
BOARD_COLUMNS = (
    "row",
    "model",
    "base_model",
    "input",
    "expected",
    "base_answer",
    "tuned_answer",
    "base_exact",
    "tuned_exact",
    "base_similarity",
    "tuned_similarity",
    "judge_outcome",
    "judge_reason",
    "base_error",
    "tuned_error",
    "judge_error",
)


@dataclass(frozen=True)
class EvalBoard:
    reports: list[EvalReport] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Examples each model answered."""
        return self.reports[0].count if self.reports else 0

    @property
    def available(self) -> int:
        return self.reports[0].available if self.reports else 0

    @property
    def seed(self) -> int | None:
        return self.reports[0].seed if self.reports else None

    @property
    def judge_model(self) -> str | None:
        return self.reports[0].judge_model if self.reports else None

    def _key(self, report: EvalReport) -> tuple[float, float, float]:
        rate = report.win_rate
        return (rate if rate is not None else -1.0, report.tuned_mean_similarity, report.tuned_exact_rate)

    def best(self) -> int | None:
        """The index of the best model (the first of equals), or None with no rows at all."""
        if not self.reports or not self.count:
            return None
        return max(range(len(self.reports)), key=lambda i: (self._key(self.reports[i]), -i))

    def ranked(self) -> list[int]:
        """Indexes of the reports, best first (equals in the order asked)."""
        return sorted(range(len(self.reports)), key=lambda i: (self._key(self.reports[i]), -i), reverse=True)

    def to_csv(self) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(BOARD_COLUMNS)
        for report in self.reports:
            models = {
                "model": spreadsheet_safe(report.tuned_model),
                "base_model": spreadsheet_safe(report.base_model),
            }
            for index, row in enumerate(report.rows, start=1):
                cells = row_cells(row, index) | models
                writer.writerow([cells[column] for column in BOARD_COLUMNS])
        return out.getvalue().encode("utf-8")

    def to_json(self) -> str:
        return json.dumps({"board": [json.loads(r.to_json()) for r in self.reports]}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> EvalBoard:
        raw = json.loads(text)
        return cls([EvalReport.from_json(json.dumps(r)) for r in raw["board"]])


def plan_json(models: list[tuple[str, str]]) -> str:
    """What a multi-model request stores until it is evaluated: its models and their bases."""
    return json.dumps({"plan": [list(pair) for pair in models]}, separators=(",", ":"))


def stored_kind(report_json: str | None) -> str:
    """ "plan", "board", "report" (one model's EvalReport) or "none"."""
    if not report_json:
        return "none"
    raw = json.loads(report_json)
    if isinstance(raw, dict) and "plan" in raw:
        return "plan"
    if isinstance(raw, dict) and "board" in raw:
        return "board"
    return "report"


def planned_models(report_json: str | None) -> list[tuple[str, str]] | None:
    """A multi-model request's models and their bases (None: a single-model request)."""
    if stored_kind(report_json) != "plan":
        return None
    assert report_json is not None
    return [(str(model), str(base)) for model, base in json.loads(report_json)["plan"]]


def board_model_names(report_json: str | None) -> list[str] | None:
    """The tuned models of a multi-model request, planned or evaluated (None: one model)."""
    kind = stored_kind(report_json)
    if kind == "plan":
        return [model for model, _base in planned_models(report_json) or []]
    if kind == "board":
        assert report_json is not None
        return [report.tuned_model for report in EvalBoard.from_json(report_json).reports]
    return None
