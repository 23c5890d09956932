"""parse_dataset: turn an uploaded file into input/output examples, or say precisely why not.

Everything streams: the raw bytes are hashed as they are read, CSV/TSV and JSON Lines are
read a line at a time, and a JSON array is read an element at a time. Only the examples
themselves are kept.

This module recognises the format and drives one reader: bot.datasets.jsonl (JSON Lines),
bot.datasets.jsondoc (a JSON array or the API's request body), bot.datasets.delimited
(CSV/TSV). Records go to a bot.datasets.collector.Collector; the wording lives in
bot.datasets.wording and the byte-level reading in bot.datasets.reading.
"""

from __future__ import annotations

import io
from typing import IO

from bot.datasets import sniff
from bot.datasets.collector import Collector, Fatal
from bot.datasets.core import Limits, ParsedDataset, plural
from bot.datasets.delimited import parse_csv
from bot.datasets.jsondoc import parse_json
from bot.datasets.jsonl import parse_jsonl
from bot.datasets.jsonstream import JsonStream, JsonSyntaxError, TokenTooLarge
from bot.datasets.reading import CHUNK, HashingRaw, NotUtf8, TooLarge, extension, open_source, text_chunks
from bot.datasets.wording import (
    INPUT_NAMES,
    NUL_MESSAGE,
    OUTPUT_NAMES,
    SAVE_AS_UTF8,
    normalise_key,
    size_text,
)

__all__ = ["FORMATS", "INPUT_NAMES", "OUTPUT_NAMES", "parse_dataset"]

FORMATS = ("csv", "tsv", "json", "jsonl", "gemini")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonlines": "jsonl",
}
_HEAD_BYTES = CHUNK


def parse_dataset(
    source: bytes | IO[bytes],
    filename: str,
    *,
    input_column: str | None = None,
    output_column: str | None = None,
    limits: Limits = Limits(),  # noqa: B008 (frozen, so a shared default is safe)
    keep_examples: bool = True,
) -> ParsedDataset:
    """Read an uploaded examples file (CSV, TSV, JSON, JSON Lines or the API's request body).

    Never raises for bad input: every reason the file cannot be used is a `Problem`.
    With `keep_examples=False` the file is only validated: the result counts its examples
    (`example_count`, `shape`, `insight`) but holds none.
    """
    stream, size = open_source(source)
    parser = Collector(filename, limits, input_column, output_column, keep_examples=keep_examples)
    result = ParsedDataset(
        examples=[],
        problems=[],
        format=_EXTENSIONS.get(extension(filename), "csv"),
        sha256="",
        filename=filename,
    )
    if size is not None and size > limits.max_file_bytes:
        cap = size_text(limits.max_file_bytes)
        parser.problem("file", None, f"the file is {size_text(size)}; the limit is {cap}")
        return _finish(parser, result, None)
    raw = HashingRaw(stream, limits.max_file_bytes)
    reader: io.BufferedReader = io.BufferedReader(raw, buffer_size=CHUNK)
    try:
        try:
            result.format = _parse(parser, reader, filename)
        except NotUtf8 as exc:
            _not_utf8(parser, exc)
        except Fatal:
            pass
        except TooLarge:
            raise
        # Read what is left so the hash covers the whole file.
        while reader.read1(CHUNK):
            pass
    except TooLarge:
        parser.reset_problems()
        parser.examples.clear()
        parser.accepted = 0
        parser.problem("file", None, f"the file is larger than the {size_text(limits.max_file_bytes)} limit")
        return _finish(parser, result, None)
    result.size_bytes = raw.total
    return _finish(parser, result, raw.hasher.hexdigest())


def _finish(parser: Collector, result: ParsedDataset, sha256: str | None) -> ParsedDataset:
    limits = parser.limits
    if sha256 is not None and parser.problem_count == 0 and parser.records == 0:
        what = "a header row but no examples" if result.format in ("csv", "tsv") else "no examples"
        parser.problem("file", None, f"the file has {what}")
    elif sha256 is not None and 0 < parser.records < limits.min_examples:
        # Said alongside the file's other problems, so they can all be fixed in one go.
        parser.problem(
            "file",
            None,
            f"the file has only {plural(parser.records, 'example')}; at least {limits.min_examples} are "
            "needed (20 or more is better, 100–500 is ideal)",
        )
    insight = parser.insight.finish()
    duplicates = insight.exact_duplicates.count
    if duplicates:
        verb = "repeats" if duplicates == 1 else "repeat"
        parser.warnings.append(f"{plural(duplicates, 'example')} {verb} an earlier one exactly")
    if parser.unknown_keys:
        listed = ", ".join(
            f"`{key}` (in {plural(n, 'example')})" for key, n in parser.unknown_keys.most_common(10)
        )
        parser.warnings.append(f"ignored unknown keys: {listed}")
    if parser.weighted:
        parser.warnings.append(
            f"`weight` on {plural(parser.weighted, 'assistant turn')} is not carried over: "
            "Vertex AI trains on every model turn"
        )
    result.examples = parser.examples
    result.example_count = parser.accepted
    result.shape = parser.shape.finish()
    result.insight = insight
    result.problems = parser.problems
    result.problem_count = parser.problem_count
    result.problem_groups = list(parser.groups.values())
    result.chat_format = parser.chat_format
    result.warnings = parser.warnings
    result.sha256 = sha256 or ""
    result.input_column = parser.used_input
    result.output_column = parser.used_output
    return result


def _not_utf8(parser: Collector, exc: NotUtf8) -> None:
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
    if any(normalise_key(key) in ("examples", "tuningtask", "trainingdata") for key in value):
        return False
    if len(lines) > 1:
        return lines[1].startswith("{")
    return fmt != "json"


def _parse(parser: Collector, reader: io.BufferedReader, filename: str) -> str:
    head = reader.peek(_HEAD_BYTES)[:_HEAD_BYTES]
    fmt = _EXTENSIONS.get(extension(filename))
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
            parse_jsonl(parser, reader, offset)
            return "jsonl"
        if fmt in ("csv", "tsv"):
            parser.warnings.append(f"`{filename}` holds JSON, not {fmt.upper()}; I read it as JSON")
        stream = JsonStream(text_chunks(reader, offset), parser.limits.max_line_bytes)
        try:
            return parse_json(parser, stream)
        except JsonSyntaxError as exc:
            message = f"the JSON is malformed at column {exc.column}: {exc.message}"
            raise parser.fatal(f"line {exc.line}", None, message) from None
        except TokenTooLarge as exc:
            raise parser.fatal(
                f"line {exc.line}",
                None,
                f"a single value is larger than {size_text(parser.limits.max_line_bytes)} — usually a "
                '`"` that is never closed',
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
    parse_csv(parser, reader, offset, delimiter)
    return detected
