"""The limits of each backend, at their boundaries: exactly at a limit passes, one over fails.
Small overridden Limits keep the files small."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest

from bot.datasets import Limits, ParsedDataset, TrainingExample, format_problems, parse_dataset
from bot.datasets.core import example_tokens
from bot.datasets.limits import GEMINI_LIMITS, VERTEX_LIMITS, limits_for


def jsonl(*records: Any) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def conversation(system: str, *texts: str) -> dict[str, Any]:
    roles = ("user", "model")
    return {
        "systemInstruction": {"parts": [{"text": system}]},
        "contents": [{"role": roles[i % 2], "parts": [{"text": t}]} for i, t in enumerate(texts)],
    }


def problems(parsed: ParsedDataset) -> list[str]:
    return [str(p) for p in parsed.problems]


# ---- tokens per example (Vertex AI) ------------------------------------------------------------


def tokens_limit(limit: int) -> Limits:
    return dataclasses.replace(VERTEX_LIMITS, max_example_tokens=limit, min_examples=1)


def test_every_turn_and_the_system_instruction_count_toward_the_token_limit() -> None:
    # 10 + 20 + 30 + 25 + 15 = 100 tokens (ASCII: 4 characters a token, each text rounded up).
    at = conversation("s" * 40, "u" * 80, "m" * 120, "u" * 100, "m" * 57)
    over = conversation("s" * 40, "u" * 80, "m" * 120, "u" * 100, "m" * 61)
    parsed = parse_dataset(jsonl(at, over), "chats.jsonl", limits=tokens_limit(100))
    assert parsed.example_count == 1
    assert example_tokens(parsed.examples[0]) == 100
    assert problems(parsed) == [
        "line 2: is about 101 tokens (estimated as bytes ÷ 4); the limit is 100 per example"
    ]


def test_tokens_are_estimated_from_utf8_bytes() -> None:
    # "é" is two bytes: 20 of them are 40 bytes, 10 tokens; the pair is 10 + 1 tokens.
    at = {"text_input": "é" * 20, "output": "y"}
    over = {"text_input": "é" * 21, "output": "y"}
    parsed = parse_dataset(jsonl(at, over), "x.jsonl", limits=tokens_limit(11))
    assert parsed.example_count == 1
    assert problems(parsed) == [
        "line 2: is about 12 tokens (estimated as bytes ÷ 4); the limit is 11 per example"
    ]


def test_the_vertex_limit_is_worded_with_the_estimate() -> None:
    record = {"text_input": "x" * (140_209 * 4), "output": "abcd"}
    parsed = parse_dataset(
        jsonl(record), "big.jsonl", limits=dataclasses.replace(VERTEX_LIMITS, min_examples=1)
    )
    assert problems(parsed) == [
        "line 1: is about 140,210 tokens (estimated as bytes ÷ 4); the limit is 131,072 per example"
    ]


def test_rows_over_the_token_limit_are_listed_once() -> None:
    record = {"text_input": "x" * 40, "output": "y" * 40}
    parsed = parse_dataset(jsonl(*[record] * 7), "x.jsonl", limits=tokens_limit(19))
    assert format_problems(parsed).splitlines() == [
        "`x.jsonl` was not stored: 7 problems",
        "• lines 1, 2, 3, 4, 5 and 2 more: is over the limit of 19 tokens per example "
        "(estimated as bytes ÷ 4)",
    ]


def test_a_setting_overrides_the_token_limit() -> None:
    limits = limits_for("vertex", '{"max_example_tokens": 5, "min_examples": 1}')
    parsed = parse_dataset(jsonl({"text_input": "x" * 16, "output": "y" * 8}), "x.jsonl", limits=limits)
    assert problems(parsed) == [
        "line 1: is about 6 tokens (estimated as bytes ÷ 4); the limit is 5 per example"
    ]


def test_the_gemini_api_has_no_token_limit_but_field_limits() -> None:
    assert GEMINI_LIMITS.max_example_tokens is None
    long_pair = {"text_input": "x" * 40_000, "output": "y" * 5_000}
    parsed = parse_dataset(
        jsonl(long_pair), "x.jsonl", limits=dataclasses.replace(GEMINI_LIMITS, min_examples=1)
    )
    assert parsed.ok


# ---- characters per field (only where set: the Gemini API) ------------------------------------


@pytest.mark.parametrize(
    ("field", "limit_name"), [("text_input", "max_input_chars"), ("output", "max_output_chars")]
)
def test_field_limits_at_the_boundary(field: str, limit_name: str) -> None:
    limits = dataclasses.replace(GEMINI_LIMITS, min_examples=1, **{limit_name: 10})
    at = {"text_input": "q", "output": "a", field: "z" * 10}
    over = {"text_input": "q", "output": "a", field: "z" * 11}
    parsed = parse_dataset(jsonl(at, over), "x.jsonl", limits=limits)
    assert parsed.example_count == 1
    assert problems(parsed) == [f"line 2, `{field}`: is 11 characters; the limit is 10"]


def test_no_field_limits_on_vertex() -> None:
    assert VERTEX_LIMITS.max_input_chars is None and VERTEX_LIMITS.max_output_chars is None
    record = {"text_input": "x" * 50_000, "output": "y" * 20_000}
    parsed = parse_dataset(
        jsonl(record), "x.jsonl", limits=dataclasses.replace(VERTEX_LIMITS, min_examples=1)
    )
    assert parsed.ok
    assert parsed.insight is not None and parsed.insight.near_output_limit.count == 0


# ---- examples per file ---------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [GEMINI_LIMITS, VERTEX_LIMITS])
def test_examples_per_file_at_the_boundary(backend: Limits) -> None:
    limits = dataclasses.replace(backend, max_examples=12, min_examples=1)
    records = [{"text_input": f"q{i}", "output": f"a{i}"} for i in range(13)]
    assert parse_dataset(jsonl(*records[:12]), "x.jsonl", limits=limits).ok
    over = parse_dataset(jsonl(*records), "x.jsonl", limits=limits)
    assert problems(over) == [
        "The file has more than 12 examples, the most one dataset may hold; split it or trim it"
    ]


def test_conversations_count_as_one_example_each() -> None:
    limits = dataclasses.replace(VERTEX_LIMITS, max_examples=2, min_examples=1)
    chats = [conversation("s", "q1", "a1", "q2", "a2", "q3", "a3")] * 2
    assert parse_dataset(jsonl(*chats), "x.jsonl", limits=limits).example_count == 2


def test_too_few_examples_at_the_boundary() -> None:
    limits = dataclasses.replace(VERTEX_LIMITS, min_examples=3)
    records = [{"text_input": f"q{i}", "output": f"a{i}"} for i in range(3)]
    assert parse_dataset(jsonl(*records), "x.jsonl", limits=limits).ok
    assert (
        "at least 3 are needed" in problems(parse_dataset(jsonl(*records[:2]), "x.jsonl", limits=limits))[0]
    )


# ---- file size --------------------------------------------------------------------------------


def test_file_size_at_the_boundary() -> None:
    record = {"text_input": "q", "output": "a"}
    data = jsonl(*[record] * 10)
    size = len(data)
    at = dataclasses.replace(VERTEX_LIMITS, max_file_bytes=size)
    under = dataclasses.replace(VERTEX_LIMITS, max_file_bytes=size - 1)
    assert parse_dataset(data, "x.jsonl", limits=at).ok
    assert parse_dataset(io.BufferedReader(io.BytesIO(data)), "x.jsonl", limits=at).ok  # type: ignore[arg-type]
    assert problems(parse_dataset(data, "x.jsonl", limits=under)) == [
        f"The file is {size} bytes; the limit is {size - 1} bytes"
    ]


class _Unseekable(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_file_size_at_the_boundary_when_streamed() -> None:
    data = jsonl(*[{"text_input": "q", "output": "a"}] * 10)
    at = dataclasses.replace(VERTEX_LIMITS, max_file_bytes=len(data))
    under = dataclasses.replace(VERTEX_LIMITS, max_file_bytes=len(data) - 1)
    assert parse_dataset(io.BufferedReader(_Unseekable(data)), "x.jsonl", limits=at).ok
    refused = parse_dataset(io.BufferedReader(_Unseekable(data)), "x.jsonl", limits=under)
    assert problems(refused) == [f"The file is larger than the {len(data) - 1} bytes limit"]


def test_vertex_takes_what_google_documents() -> None:
    assert VERTEX_LIMITS.max_example_tokens == 131_072
    assert VERTEX_LIMITS.max_examples == 10_000_000
    assert VERTEX_LIMITS.max_file_bytes == 1024 * 1024 * 1024
    assert example_tokens(TrainingExample("abcd", "efgh", ("ijkl", "mnop"), "qrst")) == 5
