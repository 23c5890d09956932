"""A small streaming JSON reader: walks objects and arrays itself so that a large array of
examples is read one element at a time, and tolerates trailing commas (the tutorial's own
request body has them). Scalars are decoded by the standard library."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None, "NaN": float("nan"), "Infinity": float("inf")}
_REFILL_BELOW = 64 * 1024
CUT_OFF = "the file ends in the middle of the JSON; it looks cut off"
TOO_DEEP = "lists or objects are nested hundreds of levels deep here; an example is one object with two texts"
BIG_NUMBER = "a number here has more than {digits:,} digits; write it in quotes if it is meant as text"
MAX_INT_DIGITS = sys.get_int_max_str_digits() or 4300


class JsonSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} (line {line}, column {column})")
        self.message = message
        self.line = line
        self.column = column


class TokenTooLarge(Exception):
    def __init__(self, line: int, limit: int) -> None:
        super().__init__(f"a single value starting on line {line} is larger than {limit:,} characters")
        self.line = line
        self.limit = limit


class JsonStream:
    def __init__(self, chunks: Iterator[str], max_token_chars: int) -> None:
        self._chunks = chunks
        self._max_token = max_token_chars
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._line = 1  # line of buf[0]
        self._col0 = 0  # 0-based column of buf[0]
        self._decoder = json.JSONDecoder()
        self.trailing_commas = 0

    # ---- buffer -------------------------------------------------------------------------

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = next(self._chunks)
        except StopIteration:
            self.eof = True
            return False
        drop = self.pos
        if drop:
            newlines = self.buf.count("\n", 0, drop)
            if newlines:
                self._line += newlines
                self._col0 = drop - self.buf.rfind("\n", 0, drop) - 1
            else:
                self._col0 += drop
        self.buf = self.buf[drop:] + chunk
        self.pos = 0
        if len(self.buf) - len(chunk) > self._max_token:
            raise TokenTooLarge(self.line_col(0)[0], self._max_token)
        return True

    def line_col(self, at: int | None = None) -> tuple[int, int]:
        p = self.pos if at is None else at
        newlines = self.buf.count("\n", 0, p)
        if newlines:
            return self._line + newlines, p - self.buf.rfind("\n", 0, p)
        return self._line, self._col0 + p + 1

    def error(self, message: str, at: int | None = None) -> JsonSyntaxError:
        line, column = self.line_col(at)
        return JsonSyntaxError(message, line, column)

    def peek(self) -> str:
        """The next non-whitespace character ("" at the end of the input), not consumed."""
        while True:
            match = _WS.match(self.buf, self.pos)
            self.pos = match.end() if match else self.pos
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    # ---- values -------------------------------------------------------------------------

    def value(self) -> Any:
        """Decode the next value; fast path through the C decoder when it is all buffered."""
        c = self.peek()
        start = self.pos
        try:
            if c in "{[" and c:
                if len(self.buf) - self.pos < _REFILL_BELOW:
                    self._more()
                    start = self.pos
                try:
                    result, end = self._decoder.raw_decode(self.buf, self.pos)
                except ValueError:  # JSONDecodeError, or an integer too long for int()
                    return self.slow_value()
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return result
            return self.slow_value()
        except RecursionError:
            # Both decoders recurse once per level; hostile nesting must not crash the parse.
            raise self.error(TOO_DEEP, start) from None

    def slow_value(self) -> Any:
        c = self.peek()
        if c == "{":
            return self._object()
        if c == "[":
            return list(self.array_items(slow=True))
        if c == '"':
            return self.string()
        if c == "-" or c.isdigit():
            return self._number()
        if c == "":
            raise self.error(CUT_OFF)
        for word, literal in _LITERALS.items():
            while len(self.buf) - self.pos < len(word) and self._more():
                pass
            if self.buf.startswith(word, self.pos):
                self.pos += len(word)
                return literal
        raise self.error(f"unexpected character {c!r} where a value was expected")

    def string(self) -> str:
        while True:
            start = self.pos
            try:
                text, end = scanstring(self.buf, start + 1, True)
            except json.JSONDecodeError as exc:
                near_end = exc.pos >= len(self.buf) - 6 or exc.msg.startswith("Unterminated")
                if near_end and self._more():
                    continue
                if exc.msg.startswith("Unterminated"):
                    raise self.error('a string is never closed (missing `"`)', start) from None
                raise self.error(exc.msg.lower(), exc.pos) from None
            self.pos = end
            return str(text)

    def key(self) -> str:
        c = self.peek()
        if c != '"':
            raise self.error(CUT_OFF if c == "" else "expected a key in double quotes")
        key = self.string()
        c = self.peek()
        if c != ":":
            raise self.error(CUT_OFF if c == "" else "expected `:` after a key")
        self.pos += 1
        return key

    def _number(self) -> int | float:
        while True:
            match = _NUMBER.match(self.buf, self.pos)
            if match and match.end() == len(self.buf) and self._more():
                continue
            if not match:
                raise self.error("malformed number")
            text = match.group(0)
            if any(ch in text for ch in ".eE"):
                self.pos = match.end()
                return float(text)
            if len(text.lstrip("-")) > MAX_INT_DIGITS:
                raise self.error(BIG_NUMBER.format(digits=MAX_INT_DIGITS))
            self.pos = match.end()
            return int(text)

    def _object(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key in self.object_keys():
            result[key] = self.slow_value()
        return result

    def object_keys(self) -> Iterator[str]:
        """At `{`: yield each key; the caller must consume the value before asking for the next."""
        self.pos += 1
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            yield self.key()
            c = self.peek()
            if c == ",":
                self.pos += 1
                c = self.peek()
                if c == "}":
                    self.trailing_commas += 1
                    self.pos += 1
                    return
                continue
            if c == "}":
                self.pos += 1
                return
            if c == "":
                raise self.error("the file ends inside an object (a `}` is missing); it looks cut off")
            raise self.error("expected `,` or `}` after a value")

    def array_items(self, *, slow: bool = False) -> Iterator[Any]:
        """At `[`: yield each element, decoded."""
        self.pos += 1
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.slow_value() if slow else self.value()
            c = self.peek()
            if c == ",":
                self.pos += 1
                c = self.peek()
                if c == "]":
                    self.trailing_commas += 1
                    self.pos += 1
                    return
                continue
            if c == "]":
                self.pos += 1
                return
            if c == "":
                raise self.error("the file ends inside a list (a `]` is missing); it looks cut off")
            raise self.error("expected `,` or `]` after a value")
