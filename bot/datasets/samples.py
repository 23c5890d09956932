"""The Gemini tuning tutorial's 15 "next number" examples, and the same as ready-made files."""

from __future__ import annotations

import csv
import io
import json

from bot.datasets.core import Example

TUTORIAL_EXAMPLES: tuple[Example, ...] = (
    Example("1", "2"),
    Example("3", "4"),
    Example("-3", "-2"),
    Example("twenty two", "twenty three"),
    Example("two hundred", "two hundred one"),
    Example("ninety nine", "one hundred"),
    Example("8", "9"),
    Example("-98", "-97"),
    Example("1,000", "1,001"),
    Example("10,100,000", "10,100,001"),
    Example("thirteen", "fourteen"),
    Example("eighty", "eighty one"),
    Example("one", "two"),
    Example("three", "four"),
    Example("seven", "eight"),
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
