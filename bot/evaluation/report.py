"""An evaluation's result: one row per held-out example and the summary of both models."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field

from bot.evaluation.score import exact_match, similarity


@dataclass(frozen=True)
class EvalRow:
    text_input: str
    expected: str
    base: str
    tuned: str
    base_error: str | None = None
    tuned_error: str | None = None

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


@dataclass(frozen=True)
class EvalReport:
    tuned_model: str
    base_model: str
    rows: list[EvalRow] = field(default_factory=list)
    # Held-out examples there were in all (only the first `len(rows)` were run).
    available: int = 0

    @property
    def count(self) -> int:
        return len(self.rows)

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
        writer = csv.writer(out)
        writer.writerow(
            [
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
            ]
        )
        for index, row in enumerate(self.rows, start=1):
            writer.writerow(
                [
                    index,
                    row.text_input,
                    row.expected,
                    row.base,
                    row.tuned,
                    int(row.base_exact),
                    int(row.tuned_exact),
                    f"{row.base_similarity:.3f}",
                    f"{row.tuned_similarity:.3f}",
                    row.base_error or "",
                    row.tuned_error or "",
                ]
            )
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
        )
