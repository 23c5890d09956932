"""What a new user heard about a broken file (#15): where a JSONL line really breaks, and
every problem of a short file at once."""

from __future__ import annotations

import io

from bot.datasets import format_problems, parse_dataset

GOOD = b'{"text_input": "q", "output": "a"}'


def problems_of(data: bytes, name: str) -> str:
    return format_problems(parse_dataset(io.BytesIO(data), name))


def test_a_broken_jsonl_line_reports_where_it_breaks() -> None:
    unclosed = b'{"text_input": "1", "output": "2"'
    text = problems_of(b"\n".join([GOOD] * 3 + [unclosed] + [GOOD] * 8) + b"\n", "a.jsonl")
    assert "line 4: is not valid JSON" in text
    assert f"at the end of the line (column {len(unclosed) + 1})" in text and "column 1)" not in text
    missing_comma = b'{"text_input": "1" "output": "2"}'
    text = problems_of(b"\n".join([GOOD] * 3 + [missing_comma] + [GOOD] * 8) + b"\n", "b.jsonl")
    assert "line 4: is not valid JSON: expecting ',' delimiter at column 20" in text


def test_a_short_file_hears_all_its_problems() -> None:
    text = problems_of(b"text_input,output\n1,2\n,3\n4,\n5,6\n", "short.csv")
    assert "row 3, `text_input`: is empty" in text and "row 4, `output`: is empty" in text
    assert "only 4 examples; at least 10 are needed" in text
