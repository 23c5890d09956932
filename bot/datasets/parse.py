"""parse_dataset: turn an uploaded file into input/output examples, or say precisely why not.

Everything streams: the raw bytes are hashed as they are read, CSV/TSV and JSON Lines are
read a line at a time, and a JSON array is read an element at a time. Only the examples
themselves are kept.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any, BinaryIO

from bot.datasets import sniff
from bot.datasets.core import Example, Limits, ParsedDataset, Problem, plural
from bot.datasets.jsonstream import JsonStream, JsonSyntaxError, TokenTooLarge

FORMATS = ("csv", "tsv", "json", "jsonl", "gemini")

INPUT_NAMES = ("text_input", "textInput", "input", "prompt", "question", "text_in")
OUTPUT_NAMES = ("output", "response", "answer", "completion", "target", "text_output")
CHAT_KEYS = ("messages", "contents", "conversations", "conversation", "turns", "role", "parts")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
}
_CHUNK = 256 * 1024
_HEAD_BYTES = _CHUNK

CHAT_MESSAGE = (
    "is a chat-style record (`{key}`): tunebot and the Gemini tuning API take input/output pairs "
    "only; multi-turn chat records are not supported. Give each example a `text_input` and an `output`."
)
NUL_MESSAGE = "the file contains NUL bytes, so it looks like a binary file, not text"
SAVE_AS_UTF8 = "Save the file as UTF-8 (in Excel: *CSV UTF-8*) and upload it again."


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


_INPUT_NORMS = tuple(_norm(n) for n in INPUT_NAMES)
_OUTPUT_NORMS = tuple(_norm(n) for n in OUTPUT_NAMES)
_CHAT_NORMS = {_norm(k): k for k in CHAT_KEYS}


def _chat(key: str, verb: str) -> str:
    return "the file " + CHAT_MESSAGE.format(key=key).replace("is a chat", f"{verb} a chat", 1)


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


class _Fatal(Exception):
    """Stops parsing; the problem has already been recorded."""


class _TooLarge(Exception):
    pass


class _NotUtf8(Exception):
    def __init__(self, offset: int, bad: bytes, line: int | None = None) -> None:
        super().__init__(offset)
        self.offset = offset
        self.bad = bad
        self.line = line


class _HashingRaw(io.RawIOBase):
    """Reads the source once, hashing and counting every byte and enforcing the size cap."""

    def __init__(self, source: BinaryIO, max_bytes: int) -> None:
        self._source = source
        self._max = max_bytes
        self.hasher = hashlib.sha256()
        self.total = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        self.total += n
        if self.total > self._max:
            raise _TooLarge
        self.hasher.update(data)
        buffer[:n] = data
        return n


class _Parser:
    def __init__(self, filename: str, limits: Limits, input_column: str | None, output_column: str | None):
        self.filename = filename
        self.limits = limits
        self.input_column = input_column
        self.output_column = output_column
        self.examples: list[Example] = []
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.warnings: list[str] = []
        self.records = 0
        self.unknown_keys: Counter[str] = Counter()
        self.used_input: str | None = None
        self.used_output: str | None = None
        self._top_small: dict[str, Any] = {}
        # Records usually share one set of keys: resolve the input/output key once per set.
        self._key_cache: dict[tuple[str, ...], tuple[str | None, str | None]] = {}

    # ---- problems -------------------------------------------------------------------------

    def problem(self, location: str, field: str | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < self.limits.max_problem_details:
            self.problems.append(Problem(location, field, message))

    def fatal(self, location: str, field: str | None, message: str) -> _Fatal:
        self.problem(location, field, message)
        return _Fatal()

    def count_record(self) -> None:
        self.records += 1
        if self.records > self.limits.max_examples:
            raise self.fatal(
                "file",
                None,
                f"the file has more than {self.limits.max_examples:,} examples, the most one dataset may "
                "hold; split it or trim it",
            )

    # ---- values ---------------------------------------------------------------------------

    def check_text(self, location: str, field: str, value: Any, limit: int) -> str | None:
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, int | float) and not isinstance(value, bool):
                hint = f'; the API needs text, so write it in quotes: "{value}"'
            self.problem(location, field, f"is {_type_name(value)}, not text{hint}")
            return None
        if not value.strip():
            self.problem(location, field, "is empty" if not value else "is empty (only whitespace)")
            return None
        if len(value) > limit:
            self.problem(location, field, f"is {len(value):,} characters; the limit is {limit:,}")
            return None
        return value

    def add(self, location: str, in_field: str, text_input: Any, out_field: str, output: Any) -> None:
        good_in = self.check_text(location, in_field, text_input, self.limits.max_input_chars)
        good_out = self.check_text(location, out_field, output, self.limits.max_output_chars)
        if good_in is not None and good_out is not None:
            self.examples.append(Example(good_in, good_out))

    # ---- JSON records ---------------------------------------------------------------------

    def _pick_key(self, record: dict[str, Any], explicit: str | None, norms: tuple[str, ...]) -> str | None:
        if explicit is not None:
            if explicit in record:
                return explicit
            for key in record:
                if key.lower() == explicit.lower():
                    return key
            return None
        by_norm: dict[str, str] = {}
        for key in record:
            by_norm.setdefault(_norm(key), key)
        for norm in norms:
            if norm in by_norm:
                return by_norm[norm]
        return None

    def record(self, location: str, record: Any) -> None:
        self.count_record()
        if not isinstance(record, dict):
            self.problem(
                location,
                None,
                f'is {_type_name(record)}, not an object like `{{"text_input": "…", "output": "…"}}`',
            )
            return
        shape = tuple(record)
        keys = self._key_cache.get(shape)
        if keys is None:
            keys = (
                self._pick_key(record, self.input_column, _INPUT_NORMS),
                self._pick_key(record, self.output_column, _OUTPUT_NORMS),
            )
            if len(self._key_cache) < 256:
                self._key_cache[shape] = keys
        in_key, out_key = keys
        if in_key is None or out_key is None:
            for key in record:
                if _norm(key) in _CHAT_NORMS:
                    self.problem(location, None, CHAT_MESSAGE.format(key=key))
                    return
            keys = ", ".join(f"`{k}`" for k in list(record)[:8]) or "none"
            if in_key is None:
                wanted = f"`{self.input_column}`" if self.input_column else f"one of {_names(INPUT_NAMES)}"
                self.problem(location, None, f"has no input field (keys found: {keys}); expected {wanted}")
            if out_key is None:
                wanted = f"`{self.output_column}`" if self.output_column else f"one of {_names(OUTPUT_NAMES)}"
                self.problem(location, None, f"has no output field (keys found: {keys}); expected {wanted}")
            return
        if len(record) > 2:
            for key in record:
                if key != in_key and key != out_key:
                    self.unknown_keys[key] += 1
        self.used_input = self.used_input or in_key
        self.used_output = self.used_output or out_key
        self.add(location, in_key, record[in_key], out_key, record[out_key])

    # ---- JSON Lines -----------------------------------------------------------------------

    def parse_jsonl(self, reader: io.BufferedReader, offset: int) -> None:
        limit = self.limits.max_line_bytes
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
                self.count_record()
                self.problem(
                    f"line {line_no}",
                    None,
                    f"is {_size(length)} long; a single line may be at most {_size(limit)}",
                )
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _NotUtf8(start + exc.start, raw[exc.start : exc.start + 1], line_no) from None
            if not text.strip():
                continue
            try:
                value = decode(text)
            except json.JSONDecodeError as exc:
                self.count_record()
                self.problem(f"line {line_no}", None, _jsonl_error(text, exc))
                continue
            self.record(f"line {line_no}", value)

    # ---- JSON -----------------------------------------------------------------------------

    def parse_json(self, stream: JsonStream) -> str:
        """Parse a JSON document; returns the format ("json" for an array, "gemini" for an object)."""
        c = stream.peek()
        if c == "[":
            for index, item in enumerate(stream.array_items(), start=1):
                self.record(f"example {index}", item)
            fmt = "json"
        elif c == "{":
            fmt = "gemini"
            found, top_keys = self._walk_body(stream, depth=0)
            if not found:
                self._missing_examples(top_keys)
        elif c == "":
            raise self.fatal("file", None, "the file is empty (only whitespace)")
        else:
            raise self.fatal(
                "file", None, "the file does not start with `[` or `{`, so it is not a JSON array or object"
            )
        if stream.peek() != "":
            line, column = stream.line_col()
            hint = ""
            if stream.buf[stream.pos] == "{":
                hint = " (if the file holds one JSON object per line, name it `.jsonl`)"
            raise self.fatal(
                f"line {line}", None, f"there is more text after the end of the JSON at column {column}{hint}"
            )
        if stream.trailing_commas:
            self.warnings.append(
                f"ignored {plural(stream.trailing_commas, 'trailing comma')} (strict JSON has none)"
            )
        return fmt

    def _walk_body(self, stream: JsonStream, depth: int) -> tuple[bool, list[str]]:
        """At `{`: look for `examples` (also inside `tuningTask.trainingData`), streaming its list."""
        found = False
        keys: list[str] = []
        small: dict[str, Any] = {}
        for key in stream.object_keys():
            keys.append(key)
            norm = _norm(key)
            nxt = stream.peek()
            if norm == "examples" and nxt == "[":
                for index, item in enumerate(stream.array_items(), start=1):
                    self.record(f"example {index}", item)
                found = True
            elif norm in ("examples", "tuningtask", "trainingdata") and nxt == "{" and depth < 4:
                inner_found, inner_keys = self._walk_body(stream, depth + 1)
                if norm == "examples" and not inner_found:
                    listed = ", ".join(f"`{k}`" for k in inner_keys[:8]) or "nothing"
                    raise self.fatal(
                        "file",
                        None,
                        f"`{key}` holds an object with {listed} but no `examples` list; expected "
                        '`{"examples": {"examples": [{"textInput": "…", "output": "…"}]}}`',
                    )
                found = found or inner_found
            elif norm == "examples":
                value = stream.value()
                raise self.fatal("file", "examples", f"is {_type_name(value)}, not a list of examples")
            else:
                value = stream.value()
                if depth == 0 and len(small) < 16:
                    small[key] = value
        if depth == 0 and not found:
            self._top_small = small
        return found, keys

    def _missing_examples(self, keys: list[str]) -> None:
        small = self._top_small
        for key in keys:
            if _norm(key) in _CHAT_NORMS:
                raise self.fatal("file", None, _chat(key, "holds"))
        if self._pick_key(small, self.input_column, _INPUT_NORMS) and self._pick_key(
            small, self.output_column, _OUTPUT_NORMS
        ):
            raise self.fatal(
                "file",
                None,
                "the file holds a single example object; put the examples in a JSON array `[{…}, {…}]` "
                "or use JSON Lines (one object per line, `.jsonl`)",
            )
        listed = ", ".join(f"`{k}`" for k in keys[:10]) or "no keys"
        raise self.fatal(
            "file",
            "examples",
            f"the JSON object has no `examples` key (found {listed}); expected "
            '`{"examples": {"examples": [{"textInput": "…", "output": "…"}]}}` or a JSON array of examples',
        )

    # ---- CSV / TSV ------------------------------------------------------------------------

    def parse_csv(self, reader: io.BufferedReader, offset: int, delimiter: str) -> None:
        limit = self.limits.max_line_bytes
        state = _LineState(offset)
        lines = _text_lines(reader, state, limit)
        if csv.field_size_limit() < limit + 1:
            csv.field_size_limit(limit + 1)
        rows = csv.reader(lines, delimiter=delimiter, strict=True)
        header: list[str] | None = None
        in_idx = out_idx = -1
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
                self._csv_error(row_no, start_line, state, str(exc))
                if state.eof or "NUL" in str(exc):
                    raise _Fatal() from None
                continue
            except _RecordTooLong:
                raise self.fatal(
                    f"row {row_no + 1}",
                    None,
                    f'runs on for more than {_size(limit)} (from line {start_line}) — usually a `"` that is '
                    "never closed, or one value that is far too long",
                ) from None
            row_no += 1
            if not any(cell.strip() for cell in row):
                continue  # a blank line, or a row of empty cells
            if header is None:
                header = row
                in_idx, out_idx = self._csv_columns(header)
                continue
            self.count_record()
            location = f"row {row_no}"
            needed = max(in_idx, out_idx) + 1
            if len(row) < needed:
                missing = header[out_idx] if len(row) <= out_idx else header[in_idx]
                self.problem(
                    location,
                    None,
                    f"has {plural(len(row), 'column')} but the header has {len(header)}; "
                    f"the `{missing}` value is missing",
                )
                continue
            if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
                self.problem(
                    location,
                    None,
                    f"has {len(row)} columns but the header has {len(header)} — a value that contains "
                    f"{_delimiter_name(delimiter)} must be in double quotes",
                )
                continue
            self.add(
                location,
                header[in_idx],
                row[in_idx].replace("\r\n", "\n"),
                header[out_idx],
                row[out_idx].replace("\r\n", "\n"),
            )
        if header is None:
            raise self.fatal("file", None, "the file is empty (it has no header row and no examples)")

    def _csv_error(self, row_no: int, start_line: int, state: _LineState, message: str) -> None:
        location = f"row {row_no}"
        if "NUL" in message:
            self.problem("file", None, NUL_MESSAGE)
        elif "unexpected end of data" in message:
            self.problem(
                location,
                None,
                f'a quoted value that starts on line {start_line} is never closed (a `"` is missing); '
                "everything after it was swallowed",
            )
        elif "expected after" in message and state.line > start_line:
            self.problem(
                location,
                None,
                f'a quoted value that starts on line {start_line} is not closed where it should be (a `"` '
                f'on line {state.line} ends it); look for a missing or stray `"`',
            )
        elif "expected after" in message:
            self.problem(
                location,
                None,
                f'a `"` in the middle of a quoted value on line {state.line} must be doubled (`""`), '
                "or the value must not be quoted",
            )
        else:
            self.problem(location, None, f"is not valid CSV ({message})")

    def _csv_columns(self, header: list[str]) -> tuple[int, int]:
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
            raise self.fatal(
                "file", None, f"there is no {role} column named `{name}`; the header has {found}"
            )

        def known(norms: tuple[str, ...]) -> int:
            by_norm: dict[str, int] = {}
            for i, h in enumerate(clean):
                by_norm.setdefault(_norm(h), i)
            return next((by_norm[n] for n in norms if n in by_norm), -1)

        in_idx = explicit(self.input_column, "input") if self.input_column else known(_INPUT_NORMS)
        out_idx = explicit(self.output_column, "output") if self.output_column else known(_OUTPUT_NORMS)
        if in_idx < 0 or out_idx < 0:
            for h in clean:
                if _norm(h) in _CHAT_NORMS:
                    raise self.fatal("file", None, _chat(h, "has"))
            missing = []
            if in_idx < 0:
                missing.append(f"an input column named one of {_names(INPUT_NAMES)}")
            if out_idx < 0:
                missing.append(f"an output column named one of {_names(OUTPUT_NAMES)}")
            raise self.fatal(
                "file",
                None,
                f"no usable columns: the header row is {found}; I need {' and '.join(missing)} "
                "(or tell me which columns to use). The first row must be a header",
            )
        if in_idx == out_idx:
            raise self.fatal("file", None, f"the input and output columns are both `{clean[in_idx]}`")
        self.used_input, self.used_output = clean[in_idx], clean[out_idx]
        extra = [h for i, h in enumerate(clean) if i not in (in_idx, out_idx) and h]
        if extra:
            self.warnings.append("ignored columns: " + ", ".join(f"`{h}`" for h in extra[:10]))
        return in_idx, out_idx


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
            raise _NotUtf8(start + exc.start, raw[exc.start : exc.start + 1], state.line) from None


def _skip_line(reader: io.BufferedReader, chunk: int) -> int:
    skipped = 0
    while True:
        part = reader.readline(chunk)
        skipped += len(part)
        if not part or part.endswith(b"\n"):
            return skipped


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:,.0f} KB"
    return plural(n, "byte")


def _delimiter_name(delimiter: str) -> str:
    return {"\t": "a tab", ",": "a comma", ";": "a semicolon"}.get(delimiter, repr(delimiter))


def _jsonl_error(text: str, exc: json.JSONDecodeError) -> str:
    stripped = text.rstrip()
    if exc.msg == "Extra data" and stripped.endswith(","):
        return "has a comma after the object; in JSON Lines each line is one object, with no comma"
    if stripped in ("[", "]"):
        return "is a lone bracket; this looks like a JSON array — name the file `.json`"
    return f"is not valid JSON: {exc.msg.lower()} at column {exc.colno}"


def _text_chunks(reader: io.BufferedReader, offset: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    while True:
        data = reader.read1(_CHUNK)
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            joined = exc.object
            raise _NotUtf8(offset - pending + exc.start, joined[exc.start : exc.start + 1]) from None
        offset += len(data)
        if text:
            yield text
        if not data:
            return


def _open(source: bytes | BinaryIO) -> tuple[BinaryIO, int | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source) if not isinstance(source, bytes) else source
        return io.BytesIO(data), len(data)
    size: int | None = None
    try:
        if source.seekable():
            here = source.tell()
            size = source.seek(0, os.SEEK_END) - here
            source.seek(here)
    except (OSError, AttributeError, ValueError):
        size = None
    return source, size


def _extension(filename: str) -> str:
    return os.path.splitext(filename.lower())[1]


def parse_dataset(
    source: bytes | BinaryIO,
    filename: str,
    *,
    input_column: str | None = None,
    output_column: str | None = None,
    limits: Limits = Limits(),  # noqa: B008 (frozen, so a shared default is safe)
) -> ParsedDataset:
    """Read an uploaded examples file (CSV, TSV, JSON, JSON Lines or the API's request body).

    Never raises for bad input: every reason the file cannot be used is a `Problem`.
    """
    stream, size = _open(source)
    parser = _Parser(filename, limits, input_column, output_column)
    result = ParsedDataset(
        examples=[],
        problems=[],
        format=_EXTENSIONS.get(_extension(filename), "csv"),
        sha256="",
        filename=filename,
    )
    if size is not None and size > limits.max_file_bytes:
        cap = _size(limits.max_file_bytes)
        parser.problem("file", None, f"the file is {_size(size)}; the limit is {cap}")
        return _finish(parser, result, None)
    raw = _HashingRaw(stream, limits.max_file_bytes)
    reader = io.BufferedReader(raw, buffer_size=_CHUNK)
    try:
        try:
            result.format = _parse(parser, reader, filename)
        except _NotUtf8 as exc:
            _not_utf8(parser, exc)
        except _Fatal:
            pass
        except _TooLarge:
            raise
        # Read what is left so the hash covers the whole file.
        while reader.read1(_CHUNK):
            pass
    except _TooLarge:
        parser.problems.clear()
        parser.problem_count = 0
        parser.examples.clear()
        parser.problem("file", None, f"the file is larger than the {_size(limits.max_file_bytes)} limit")
        return _finish(parser, result, None)
    result.size_bytes = raw.total
    return _finish(parser, result, raw.hasher.hexdigest())


def _finish(parser: _Parser, result: ParsedDataset, sha256: str | None) -> ParsedDataset:
    limits = parser.limits
    if sha256 is not None and parser.problem_count == 0:
        if parser.records == 0:
            what = "a header row but no examples" if result.format in ("csv", "tsv") else "no examples"
            parser.problem("file", None, f"the file has {what}")
        elif parser.records < limits.min_examples:
            parser.problem(
                "file",
                None,
                f"the file has only {plural(parser.records, 'example')}; at least {limits.min_examples} are "
                "needed (20 or more is better, 100–500 is ideal)",
            )
    duplicates = len(parser.examples) - len(set(parser.examples))
    if duplicates:
        parser.warnings.append(f"{plural(duplicates, 'example')} repeat an earlier one exactly")
    if parser.unknown_keys:
        listed = ", ".join(
            f"`{key}` (in {plural(n, 'example')})" for key, n in parser.unknown_keys.most_common(10)
        )
        parser.warnings.append(f"ignored unknown keys: {listed}")
    result.examples = parser.examples
    result.problems = parser.problems
    result.problem_count = parser.problem_count
    result.warnings = parser.warnings
    result.sha256 = sha256 or ""
    result.input_column = parser.used_input
    result.output_column = parser.used_output
    return result


def _not_utf8(parser: _Parser, exc: _NotUtf8) -> None:
    where = f"line {exc.line}" if exc.line else "file"
    byte = exc.bad[0] if exc.bad else 0
    kind = sniff.describe_byte_encoding(exc.bad)
    parser.problem(
        where,
        None,
        f"the file is not UTF-8 text: byte 0x{byte:02X} at byte offset {exc.offset:,} is not valid UTF-8 "
        f"(it looks like {kind}). {SAVE_AS_UTF8}",
    )


def _looks_like_jsonl(text_head: str, fmt: str | None) -> bool:
    """One JSON value per line (rather than one JSON document)?"""
    complete, value = sniff.first_line_value(text_head)
    lines = sniff.non_blank_lines(text_head)
    if not complete and "\n" not in text_head.lstrip():
        return fmt == "jsonl"  # one line longer than the head: only the name can tell
    if fmt == "jsonl":
        return complete or lines[0] not in ("{", "[")
    if not complete or not isinstance(value, dict):
        return False
    if any(_norm(key) in ("examples", "tuningtask", "trainingdata") for key in value):
        return False
    if len(lines) > 1:
        return lines[1].startswith("{")
    return fmt != "json"


def _parse(parser: _Parser, reader: io.BufferedReader, filename: str) -> str:
    head = reader.peek(_HEAD_BYTES)[:_HEAD_BYTES]
    fmt = _EXTENSIONS.get(_extension(filename))
    if not head:
        raise parser.fatal("file", None, "the file is empty (0 bytes)")
    utf16 = sniff.utf16_kind(head)
    if utf16:
        raise parser.fatal("file", None, f"the file is {utf16}, not UTF-8. {SAVE_AS_UTF8}")
    kind = sniff.binary_kind(head, filename)
    if kind:
        raise parser.fatal("file", None, f"this looks like {kind}, not a text file of examples")
    if b"\x00" in head:
        raise parser.fatal("file", None, NUL_MESSAGE)
    offset = 0
    if head.startswith(sniff.UTF8_BOM):
        reader.read(len(sniff.UTF8_BOM))
        head = head[len(sniff.UTF8_BOM) :]
        offset = len(sniff.UTF8_BOM)
    text_head = head.decode("utf-8", errors="replace")
    stripped = text_head.lstrip()
    if not stripped:
        raise parser.fatal("file", None, "the file is empty (only whitespace)")
    if sniff.looks_like_html(text_head):
        raise parser.fatal(
            "file",
            None,
            "this looks like an HTML web page, not a file of examples (was a web page or a sign-in page "
            "saved instead of the data?)",
        )
    if sniff.looks_like_xml(text_head):
        raise parser.fatal("file", None, "this looks like an XML file; upload CSV, TSV, JSON or JSON Lines")
    if "\r" in text_head and "\n" not in text_head and text_head.count("\r") > 1:
        raise parser.fatal(
            "file",
            None,
            "the file uses old Mac line endings (CR only); save it as *CSV UTF-8* or with Windows/Unix line "
            "endings",
        )
    first = stripped[0]
    if first in "[{":
        if _looks_like_jsonl(text_head, fmt):
            if fmt not in (None, "jsonl"):
                parser.warnings.append(f"`{filename}` holds JSON Lines; I read it as JSON Lines")
            parser.parse_jsonl(reader, offset)
            return "jsonl"
        if fmt in ("csv", "tsv"):
            parser.warnings.append(f"`{filename}` holds JSON, not {fmt.upper()}; I read it as JSON")
        stream = JsonStream(_text_chunks(reader, offset), parser.limits.max_line_bytes)
        try:
            return parser.parse_json(stream)
        except JsonSyntaxError as exc:
            message = f"the JSON is malformed at column {exc.column}: {exc.message}"
            raise parser.fatal(f"line {exc.line}", None, message) from None
        except TokenTooLarge as exc:
            raise parser.fatal(
                f"line {exc.line}",
                None,
                f'a single value is larger than {_size(parser.limits.max_line_bytes)} — usually a `"` that '
                "is never closed",
            ) from None
    if fmt in ("json", "jsonl"):
        raise parser.fatal(
            "file",
            None,
            f"the file is named `.{fmt}` but does not start with `[` or `{{`, so it is not "
            + ("JSON" if fmt == "json" else "JSON Lines"),
        )
    delimiter = sniff.delimiter_for(sniff.first_line(head).decode("utf-8", errors="replace"))
    detected = "tsv" if delimiter == "\t" else "csv"
    if fmt and fmt != detected:
        name = detected.upper()
        parser.warnings.append(f"`{filename}` is {name}, not {fmt.upper()}; I read it as {name}")
    if delimiter == ";":
        parser.warnings.append("the columns are separated by semicolons; I read them that way")
    parser.parse_csv(reader, offset, delimiter)
    return detected
