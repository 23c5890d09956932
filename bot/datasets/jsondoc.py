"""A JSON document: an array of examples, or the Gemini API's request body, read an element
at a time."""

from __future__ import annotations

from typing import Any

from bot.datasets.collector import Collector
from bot.datasets.core import plural
from bot.datasets.jsonstream import JsonStream
from bot.datasets.wording import (
    CHAT_NORMS,
    CONVERSATION_NORMS,
    INPUT_NORMS,
    OUTPUT_NORMS,
    chat_problem,
    normalise_key,
    type_name,
)


def parse_json(col: Collector, stream: JsonStream) -> str:
    """Parse a JSON document; returns the format ("json" for an array, "gemini" for an object)."""
    c = stream.peek()
    if c == "[":
        for index, item in enumerate(stream.array_items(), start=1):
            col.record(f"example {index}", item)
        fmt = "json"
    elif c == "{":
        fmt = "gemini"
        found, top_keys = _walk_body(col, stream, depth=0)
        if not found:
            _missing_examples(col, top_keys)
    elif c == "":
        raise col.fatal("file", None, "the file is empty (only whitespace)")
    else:
        raise col.fatal(
            "file", None, "the file does not start with `[` or `{`, so it is not a JSON array or object"
        )
    if stream.peek() != "":
        line, column = stream.line_col()
        hint = ""
        if stream.buf[stream.pos] == "{":
            hint = " (if the file holds one JSON object per line, name it `.jsonl`)"
        raise col.fatal(
            f"line {line}", None, f"there is more text after the end of the JSON at column {column}{hint}"
        )
    if stream.trailing_commas:
        col.warnings.append(
            f"ignored {plural(stream.trailing_commas, 'trailing comma')} (strict JSON has none)"
        )
    return fmt


def _walk_body(col: Collector, stream: JsonStream, depth: int) -> tuple[bool, list[str]]:
    """At `{`: look for `examples` (also inside `tuningTask.trainingData`), streaming its list."""
    found = False
    keys: list[str] = []
    small: dict[str, Any] = {}
    for key in stream.object_keys():
        keys.append(key)
        norm = normalise_key(key)
        nxt = stream.peek()
        if norm == "examples" and nxt == "[":
            for index, item in enumerate(stream.array_items(), start=1):
                col.record(f"example {index}", item)
            found = True
        elif norm in ("examples", "tuningtask", "trainingdata") and nxt == "{" and depth < 4:
            inner_found, inner_keys = _walk_body(col, stream, depth + 1)
            if norm == "examples" and not inner_found:
                listed = ", ".join(f"`{k}`" for k in inner_keys[:8]) or "nothing"
                raise col.fatal(
                    "file",
                    None,
                    f"`{key}` holds an object with {listed} but no `examples` list; expected "
                    '`{"examples": {"examples": [{"textInput": "…", "output": "…"}]}}`',
                )
            found = found or inner_found
        elif norm == "examples":
            value = stream.value()
            raise col.fatal("file", "examples", f"is {type_name(value)}, not a list of examples")
        else:
            value = stream.value()
            if depth == 0 and len(small) < 16:
                small[key] = value
    if depth == 0 and not found:
        col.top_small = small
    return found, keys


def _missing_examples(col: Collector, keys: list[str]) -> None:
    small = col.top_small
    for key in keys:
        if normalise_key(key) in CONVERSATION_NORMS:
            raise col.fatal("file", None, chat_problem(key, "is one JSON object with"))
        if normalise_key(key) in CHAT_NORMS:
            raise col.fatal("file", None, chat_problem(key, "holds"))
    if col.pick_key(small, col.input_column, INPUT_NORMS) and col.pick_key(
        small, col.output_column, OUTPUT_NORMS
    ):
        raise col.fatal(
            "file",
            None,
            "the file holds a single example object; put the examples in a JSON array `[{…}, {…}]` "
            "or use JSON Lines (one object per line, `.jsonl`)",
        )
    listed = ", ".join(f"`{k}`" for k in keys[:10]) or "no keys"
    raise col.fatal(
        "file",
        "examples",
        f"the JSON object has no `examples` key (found {listed}); expected "
        '`{"examples": {"examples": [{"textInput": "…", "output": "…"}]}}` or a JSON array of examples',
    )
