"""The Gemini tuning tutorial's 15 "next number" examples, and the same as ready-made files."""

from __future__ import annotations

import csv
import io
import json

from bot.domain.types import TrainingExample

TUTORIAL_EXAMPLES: tuple[TrainingExample, ...] = (
    TrainingExample("1", "2"),
    TrainingExample("3", "4"),
    TrainingExample("-3", "-2"),
    TrainingExample("twenty two", "twenty three"),
    TrainingExample("two hundred", "two hundred one"),
    TrainingExample("ninety nine", "one hundred"),
    TrainingExample("8", "9"),
    TrainingExample("-98", "-97"),
    TrainingExample("1,000", "1,001"),
    TrainingExample("10,100,000", "10,100,001"),
    TrainingExample("thirteen", "fourteen"),
    TrainingExample("eighty", "eighty one"),
    TrainingExample("one", "two"),
    TrainingExample("three", "four"),
    TrainingExample("seven", "eight"),
)


def tutorial_csv() -> bytes:
    """The tutorial examples as UTF-8 CSV with a `text_input,output` header (values with commas quoted)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text_input", "output"])
    writer.writerows((e.text_input, e.output) for e in TUTORIAL_EXAMPLES)
    return out.getvalue().encode("utf-8")


def tutorial_jsonl() -> bytes:
    """The tutorial examples as JSON Lines, one `{"text_input": …, "output": …}` per line."""
    lines = (
        json.dumps({"text_input": e.text_input, "output": e.output}, ensure_ascii=False)
        for e in TUTORIAL_EXAMPLES
    )
    return ("\n".join(lines) + "\n").encode("utf-8")
