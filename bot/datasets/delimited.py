"""CSV and TSV: a header row, then one example per row, read a line at a time."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from bot.datasets.collector import Collector, Fatal
from bot.datasets.core import plural
from bot.datasets.reading import NotUtf8
from bot.datasets.wording import (
    CHAT_NORMS,
    CONVERSATION_NORMS,
    INPUT_NAMES,
    INPUT_NORMS,
    NUL_MESSAGE,
    OUTPUT_NAMES,
    OUTPUT_NORMS,
    SYSTEM_NORMS,
    chat_problem,
    normalise_key,
    quoted_names,
    size_text,
)


def parse_csv(col: Collector, reader: io.BufferedReader, offset: int, delimiter: str) -> None:
    limit = col.limits.max_line_bytes
    col.maybe_surrogates = False  # strict UTF-8 text holds no surrogates, and CSV has no escapes
    state = _LineState(offset)
    lines = _text_lines(reader, state, limit)
    if csv.field_size_limit() < limit + 1:
        csv.field_size_limit(limit + 1)
    rows = csv.reader(lines, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    in_idx = out_idx = sys_idx = -1
    row_no = 0
    while True:
        state.record_bytes = 0
        start_line = state.line + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            row_no += 1
            _csv_error(col, row_no, start_line, state, str(exc))
            if state.eof or "NUL" in str(exc):
                raise Fatal() from None
            continue
        except _RecordTooLong:
            raise col.fatal(
                f"row {row_no + 1}",
                None,
                f'runs on for more than {size_text(limit)} (from line {start_line}) — usually a `"` that is '
                "never closed, or one value that is far too long",
            ) from None
        row_no += 1
        if not any(cell.strip() for cell in row):
            continue  # a blank line, or a row of empty cells
        if header is None:
            header = row
            in_idx, out_idx, sys_idx = _csv_columns(col, header)
            continue
        col.count_record()
        location = f"row {row_no}"
        needed = max(in_idx, out_idx) + 1
        if len(row) < needed:
            missing = header[out_idx] if len(row) <= out_idx else header[in_idx]
            col.problem(
                location,
                None,
                f"has {plural(len(row), 'column')} but the header has {len(header)}; "
                f"the `{missing}` value is missing",
            )
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            col.problem(
                location,
                None,
                f"has {len(row)} columns but the header has {len(header)} — a value that contains "
                f"{_delimiter_name(delimiter)} must be in double quotes",
            )
            continue
        system: str | None = None
        if 0 <= sys_idx < len(row) and row[sys_idx]:
            fine, system = col.system_text(location, header[sys_idx], row[sys_idx].replace("\r\n", "\n"))
            if not fine:
                continue
        col.add(
            location,
            header[in_idx],
            row[in_idx].replace("\r\n", "\n"),
            header[out_idx],
            row[out_idx].replace("\r\n", "\n"),
            system,
        )
    if header is None:
        raise col.fatal("file", None, "the file is empty (it has no header row and no examples)")


def _csv_error(col: Collector, row_no: int, start_line: int, state: _LineState, message: str) -> None:
    location = f"row {row_no}"
    if "NUL" in message:
        col.problem("file", None, NUL_MESSAGE)
    elif "unexpected end of data" in message:
        col.problem(
            location,
            None,
            f'a quoted value that starts on line {start_line} is never closed (a `"` is missing); '
            "everything after it was swallowed",
        )
    elif "expected after" in message and state.line > start_line:
        col.problem(
            location,
            None,
            f'a quoted value that starts on line {start_line} is not closed where it should be (a `"` '
            f'on line {state.line} ends it); look for a missing or stray `"`',
        )
    elif "expected after" in message:
        col.problem(
            location,
            None,
            f'a `"` in the middle of a quoted value on line {state.line} must be doubled (`""`), '
            "or the value must not be quoted",
        )
    else:
        col.problem(location, None, f"is not valid CSV ({message})")


def _csv_columns(col: Collector, header: list[str]) -> tuple[int, int, int]:
    clean = [h.strip().lstrip("\ufeff") for h in header]
    header[:] = clean
    found = ", ".join(f"`{h}`" for h in clean) or "nothing"

    def explicit(name: str, role: str) -> int:
        for i, h in enumerate(clean):
            if h == name:
                return i
        for i, h in enumerate(clean):
            if h.lower() == name.lower():
                return i
        raise col.fatal("file", None, f"there is no {role} column named `{name}`; the header has {found}")

    def known(norms: tuple[str, ...]) -> int:
        by_norm: dict[str, int] = {}
        for i, h in enumerate(clean):
            by_norm.setdefault(normalise_key(h), i)
        return next((by_norm[n] for n in norms if n in by_norm), -1)

    in_idx = explicit(col.input_column, "input") if col.input_column else known(INPUT_NORMS)
    out_idx = explicit(col.output_column, "output") if col.output_column else known(OUTPUT_NORMS)
    if in_idx < 0 or out_idx < 0:
        for h in clean:
            if normalise_key(h) in CHAT_NORMS or normalise_key(h) in CONVERSATION_NORMS:
                raise col.fatal("file", None, chat_problem(h, "has a column"))
        missing = []
        if in_idx < 0:
            missing.append(f"an input column named one of {quoted_names(INPUT_NAMES)}")
        if out_idx < 0:
            missing.append(f"an output column named one of {quoted_names(OUTPUT_NAMES)}")
        raise col.fatal(
            "file",
            None,
            f"no usable columns: the header row is {found}; I need {' and '.join(missing)} "
            "(or tell me which columns to use). The first row must be a header",
        )
    if in_idx == out_idx:
        raise col.fatal("file", None, f"the input and output columns are both `{clean[in_idx]}`")
    col.used_input, col.used_output = clean[in_idx], clean[out_idx]
    sys_idx = known(SYSTEM_NORMS)
    if sys_idx in (in_idx, out_idx):
        sys_idx = -1
    extra = [h for i, h in enumerate(clean) if i not in (in_idx, out_idx, sys_idx) and h]
    if extra:
        col.warnings.append("ignored columns: " + ", ".join(f"`{h}`" for h in extra[:10]))
    return in_idx, out_idx, sys_idx


class _RecordTooLong(Exception):
    pass


class _LineState:
    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.line = 0
        self.record_bytes = 0
        self.eof = False


def _text_lines(reader: io.BufferedReader, state: _LineState, limit: int) -> Iterator[str]:
    while True:
        raw = reader.readline(limit + 1)
        if not raw:
            state.eof = True
            return
        start = state.offset
        state.offset += len(raw)
        state.line += 1
        state.record_bytes += len(raw)
        if state.record_bytes > limit:
            raise _RecordTooLong
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotUtf8(start + exc.start, raw[exc.start : exc.start + 1], state.line) from None


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "a tab", ",": "a comma", ";": "a semicolon"}.get(delimiter, repr(delimiter))
