"""JSON Lines: one object per line, read a line at a time."""

from __future__ import annotations

import io
import json

from bot.datasets.collector import Collector
from bot.datasets.jsonstream import BIG_NUMBER, MAX_INT_DIGITS, TOO_DEEP
from bot.datasets.reading import NotUtf8
from bot.datasets.wording import size_text


def parse_jsonl(col: Collector, reader: io.BufferedReader, offset: int) -> None:
    limit = col.limits.max_line_bytes
    decode = json.JSONDecoder().decode
    line_no = 0
    while True:
        raw = reader.readline(limit + 1)
        if not raw:
            return
        line_no += 1
        start = offset
        offset += len(raw)
        if len(raw) > limit and not raw.endswith(b"\n"):
            length = len(raw) + _skip_line(reader, limit)
            offset = start + length
            col.count_record()
            col.problem(
                f"line {line_no}",
                None,
                f"is {size_text(length)} long; a single line may be at most {size_text(limit)}",
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotUtf8(start + exc.start, raw[exc.start : exc.start + 1], line_no) from None
        if text.isspace():
            continue
        try:
            value = decode(text)
        except (ValueError, RecursionError):
            # Again without the line break, so that an error at the end is reported on this
            # line, not the next.
            line = text.rstrip("\r\n")
            try:
                value = decode(line)
            except json.JSONDecodeError as exc:
                col.count_record()
                col.problem(f"line {line_no}", None, _jsonl_error(line, exc))
                continue
            except RecursionError:
                col.count_record()
                col.problem(f"line {line_no}", None, f"is not an example: {TOO_DEEP}")
                continue
            except ValueError:  # an integer longer than int() accepts
                col.count_record()
                col.problem(f"line {line_no}", None, BIG_NUMBER.format(digits=MAX_INT_DIGITS))
                continue
        # Only a `\\u` escape can make a lone surrogate; most lines have none.
        col.maybe_surrogates = "\\u" in text
        col.record(f"line {line_no}", value)


# ---- JSON -----------------------------------------------------------------------------


def _skip_line(reader: io.BufferedReader, chunk: int) -> int:
    skipped = 0
    while True:
        part = reader.readline(chunk)
        skipped += len(part)
        if not part or part.endswith(b"\n"):
            return skipped


def _jsonl_error(text: str, exc: json.JSONDecodeError) -> str:
    stripped = text.rstrip()
    if exc.msg == "Extra data" and stripped.endswith(","):
        return "has a comma after the object; in JSON Lines each line is one object, with no comma"
    if stripped in ("[", "]"):
        return "is a lone bracket; this looks like a JSON array — name the file `.json`"
    if exc.pos >= len(stripped):
        return (
            f"is not valid JSON: {exc.msg.lower()} at the end of the line (column {exc.colno}); "
            "the object is not closed"
        )
    return f"is not valid JSON: {exc.msg.lower()} at column {exc.colno}"
