"""bot.datasets: every accepted format, every rejection the uploader can meet, and formatting."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from bot.datasets import (
    TUTORIAL_EXAMPLES,
    Limits,
    ParsedDataset,
    Problem,
    TrainingExample,
    format_problems,
    parse_dataset,
    tutorial_csv,
    tutorial_jsonl,
)

DATA = Path(__file__).parent / "data"
GOOD: dict[str, dict[str, object]] = json.loads((DATA / "good" / "EXPECTED.json").read_text())
BAD: dict[str, str] = json.loads((DATA / "bad" / "EXPECTED.json").read_text())
MB = 1024 * 1024


def parse(data: bytes, name: str, **kwargs: object) -> ParsedDataset:
    return parse_dataset(data, name, **kwargs)  # type: ignore[arg-type]


def messages(parsed: ParsedDataset) -> str:
    return format_problems(parsed, max_shown=1_000)


def rows(n: int, start: int = 0) -> list[tuple[str, str]]:
    return [(f"in {i}", f"out {i}") for i in range(start, start + n)]


def csv_bytes(pairs: list[tuple[str, str]], header: str = "text_input,output") -> bytes:
    return ("\n".join([header, *(f"{a},{b}" for a, b in pairs)]) + "\n").encode()


# ---- corpus ---------------------------------------------------------------------------------


def test_corpus_is_small_and_complete() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 1 * MB
    assert len(BAD) >= 30
    for folder, expected in (("good", GOOD), ("bad", BAD)):
        on_disk = {p.name for p in (DATA / folder).iterdir()} - {"EXPECTED.json"}
        assert on_disk == set(expected)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file(name: str) -> None:
    data = (DATA / "good" / name).read_bytes()
    parsed = parse(data, name)
    assert parsed.ok, messages(parsed)
    assert parsed.problems == []
    assert parsed.format == GOOD[name]["format"]
    assert len(parsed.examples) == GOOD[name]["examples"]
    assert parsed.sha256 == hashlib.sha256(data).hexdigest()
    assert all(isinstance(e.text_input, str) and isinstance(e.output, str) for e in parsed.examples)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file(name: str) -> None:
    data = (DATA / "bad" / name).read_bytes()
    parsed = parse(data, name)
    assert not parsed.ok
    assert parsed.problems
    text = messages(parsed)
    assert BAD[name].lower() in text.lower(), text
    assert text.startswith(f"`{name}` was not stored: ")


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_from_a_stream(name: str) -> None:
    data = (DATA / "bad" / name).read_bytes()
    parsed = parse_dataset(io.BytesIO(data), name)
    assert BAD[name].lower() in messages(parsed).lower()


# ---- formats --------------------------------------------------------------------------------


def test_tutorial_examples_are_the_tutorials() -> None:
    assert len(TUTORIAL_EXAMPLES) == 15
    assert TUTORIAL_EXAMPLES[0] == TrainingExample("1", "2")
    assert TrainingExample("10,100,000", "10,100,001") in TUTORIAL_EXAMPLES
    assert TUTORIAL_EXAMPLES[-1] == TrainingExample("seven", "eight")


@pytest.mark.parametrize(
    ("make", "name", "fmt"), [(tutorial_csv, "t.csv", "csv"), (tutorial_jsonl, "t.jsonl", "jsonl")]
)
def test_tutorial_round_trip(make: object, name: str, fmt: str) -> None:
    parsed = parse(make(), name)  # type: ignore[operator]
    assert parsed.ok
    assert parsed.format == fmt
    assert tuple(parsed.examples) == TUTORIAL_EXAMPLES
    assert (parsed.input_column, parsed.output_column) == ("text_input", "output")


def test_bom_and_crlf_csv() -> None:
    data = b"\xef\xbb\xbfText_Input,OUTPUT\r\n" + b"".join(f"{a},{b}\r\n".encode() for a, b in rows(12))
    parsed = parse(data, "excel.csv")
    assert parsed.ok
    assert parsed.examples[0] == TrainingExample("in 0", "out 0")
    assert parsed.input_column == "Text_Input"


def test_multiline_cell_keeps_newlines_without_cr() -> None:
    data = b'input,output\r\n"two\r\nlines",x\r\n' + b"".join(f"{a},{b}\r\n".encode() for a, b in rows(10))
    parsed = parse(data, "m.csv")
    assert parsed.ok
    assert parsed.examples[0].text_input == "two\nlines"


def test_cell_numbers_are_text_in_csv() -> None:
    parsed = parse(csv_bytes([(str(i), str(i + 1)) for i in range(10)]), "n.csv")
    assert parsed.ok
    assert parsed.examples[3] == TrainingExample("3", "4")


def test_tsv_detected_in_txt() -> None:
    data = ("\n".join(["question\tanswer", *(f"{a}, yes\t{b}" for a, b in rows(10))])).encode()
    parsed = parse(data, "pairs.txt")
    assert parsed.ok
    assert parsed.format == "tsv"
    assert parsed.examples[0] == TrainingExample("in 0, yes", "out 0")


def test_csv_that_is_tsv_warns() -> None:
    data = ("\n".join(["input\toutput", *(f"{a}\t{b}" for a, b in rows(10))])).encode()
    parsed = parse(data, "x.csv")
    assert parsed.ok and parsed.format == "tsv"
    assert any("TSV" in w for w in parsed.warnings)


def test_json_content_in_txt_and_csv() -> None:
    data = json.dumps([{"prompt": a, "completion": b} for a, b in rows(10)]).encode()
    assert parse(data, "x.txt").format == "json"
    parsed = parse(data, "x.csv")
    assert parsed.ok and parsed.format == "json"
    assert any("holds JSON" in w for w in parsed.warnings)


def test_single_line_jsonl_in_txt() -> None:
    parsed = parse(b'{"input": "a", "output": "b"}\n', "one.txt", limits=Limits(min_examples=1))
    assert parsed.ok
    assert parsed.format in ("jsonl", "gemini")


def test_api_body_camel_and_snake() -> None:
    for key in ("textInput", "text_input"):
        body = {"examples": {"examples": [{key: a, "output": b} for a, b in rows(10)]}}
        parsed = parse(json.dumps(body).encode(), "body.json")
        assert parsed.ok and parsed.format == "gemini"
        assert parsed.input_column == key


def test_unknown_keys_are_a_warning() -> None:
    data = b"".join(
        json.dumps({"input": a, "output": b, "id": i}).encode() + b"\n" for i, (a, b) in enumerate(rows(10))
    )
    parsed = parse(data, "x.jsonl")
    assert parsed.ok
    assert parsed.warnings == ["ignored unknown keys: `id` (in 10 examples)"]


def test_extra_csv_columns_are_a_warning() -> None:
    parsed = parse(csv_bytes([(f"{a},{a}", b) for a, b in rows(10)], header="id,input,output"), "x.csv")
    assert parsed.ok
    assert parsed.examples[0] == TrainingExample("in 0", "out 0")
    assert parsed.warnings == ["ignored columns: `id`"]


# ---- column overrides -------------------------------------------------------------------------


def test_explicit_columns_csv() -> None:
    data = csv_bytes(rows(10), header="Frage,Antwort")
    assert not parse(data, "x.csv").ok
    parsed = parse(data, "x.csv", input_column="Frage", output_column="antwort")
    assert parsed.ok
    assert (parsed.input_column, parsed.output_column) == ("Frage", "Antwort")


def test_explicit_column_overrides_recognised_names() -> None:
    data = ("input,output,better\n" + "".join(f"{a},{b},best {a}\n" for a, b in rows(10))).encode()
    parsed = parse(data, "x.csv", output_column="better")
    assert parsed.ok
    assert parsed.examples[0] == TrainingExample("in 0", "best in 0")


def test_explicit_column_missing_lists_the_header() -> None:
    parsed = parse(csv_bytes(rows(10)), "x.csv", output_column="answer")
    assert "There is no output column named `answer`; the header has `text_input`, `output`" in messages(
        parsed
    )


def test_explicit_keys_json() -> None:
    data = json.dumps([{"q": a, "a": b} for a, b in rows(10)]).encode()
    parsed = parse(data, "x.json", input_column="q", output_column="a")
    assert parsed.ok
    missing = parse(data, "x.json", input_column="question", output_column="a")
    assert "expected `question`" in messages(missing)


# ---- rejections made at runtime (too big to commit) ------------------------------------------


def test_line_over_10_mb_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as f:
        for a, b in rows(5):
            f.write(json.dumps({"input": a, "output": b}).encode() + b"\n")
        f.write(b'{"input": "' + b"x" * (10 * MB) + b'", "output": "y"}\n')
        for a, b in rows(10, 5):
            f.write(json.dumps({"input": a, "output": b}).encode() + b"\n")
    with path.open("rb") as f:
        parsed = parse_dataset(f, path.name)
    assert [str(p) for p in parsed.problems] == ["line 6: is 10 MB long; a single line may be at most 8 MB"]
    assert len(parsed.examples) == 15
    assert parsed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_record_over_10_mb_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_bytes(csv_bytes(rows(3)) + b'"' + (b"x" * 1023 + b"\n") * (10 * 1024) + b'",y\n')
    with path.open("rb") as f:
        parsed = parse_dataset(f, path.name)
    assert "row 5: runs on for more than 8 MB (from line 5)" in messages(parsed)


def test_value_over_10_mb_in_json(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_bytes(b'[{"input": "a", "output": "' + b"y" * (10 * MB) + b'"}]')
    with path.open("rb") as f:
        parsed = parse_dataset(f, path.name)
    assert "line 1: a single value is larger than 8 MB" in messages(parsed)


def test_file_over_the_size_cap_seekable(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.truncate(64 * MB + 1)  # sparse: nothing is written
    with path.open("rb") as f:
        parsed = parse_dataset(f, path.name)
    assert messages(parsed) == "`big.csv` was not stored: 1 problem\n• The file is 64 MB; the limit is 64 MB"
    assert parsed.sha256 == ""


class _Unseekable(io.RawIOBase):
    """A non-seekable stream of CSV rows, `size` bytes long."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.header = b"input,output\n"

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self.left)
        row = b"a" * 1020 + b",b\n"
        chunk = (self.header + row * (n // len(row) + 1))[:n]
        self.header = b""
        buffer[:n] = chunk
        self.left -= n
        return n


def test_file_over_the_size_cap_streamed() -> None:
    limits = Limits(max_file_bytes=2 * MB, max_examples=10**9)
    parsed = parse_dataset(io.BufferedReader(_Unseekable(2 * MB + 100)), "pipe.csv", limits=limits)
    assert [str(p) for p in parsed.problems] == ["The file is larger than the 2 MB limit"]
    assert parsed.examples == []


def test_too_many_examples() -> None:
    parsed = parse(csv_bytes(rows(21)), "x.csv", limits=Limits(max_examples=20))
    assert "more than 20 examples" in messages(parsed)


def test_problem_details_are_capped_but_counted() -> None:
    data = b"input,output\n" + b"x,\n" * 1_500
    parsed = parse(data, "x.csv")
    assert parsed.problem_count == 1_500
    assert len(parsed.problems) == 1_000
    assert format_problems(parsed).endswith("…and 1,490 more problems")


def test_many_problems_collected_not_just_the_first() -> None:
    data = csv_bytes([*rows(10), ("", "x"), ("y", ""), ("z", "w" * 5_001)])
    parsed = parse(data, "x.csv")
    assert [str(p) for p in parsed.problems] == [
        "row 12, `text_input`: is empty",
        "row 13, `output`: is empty",
        "row 14, `output`: is 5,001 characters; the limit is 5,000",
    ]
    assert len(parsed.examples) == 10


# ---- problems and formatting ----------------------------------------------------------------


def test_problem_str() -> None:
    assert str(Problem("row 7", "output", "is 5,001 characters; the limit is 5,000")) == (
        "row 7, `output`: is 5,001 characters; the limit is 5,000"
    )
    assert str(Problem("line 3", None, "is not valid JSON")) == "line 3: is not valid JSON"
    assert str(Problem("file", None, "the file is empty")) == "The file is empty"


def test_format_problems_shows_ten_and_counts_the_rest() -> None:
    parsed = parse(b"input,output\n" + b"x,\n" * 13, "my <file>.csv")
    text = format_problems(parsed)
    lines = text.splitlines()
    assert lines[0] == "`my &lt;file&gt;.csv` was not stored: 13 problems"
    assert lines[1] == "• row 2, `output`: is empty"
    assert len([line for line in lines if line.startswith("• ")]) == 10
    assert lines[-1] == "…and 3 more problems"
    assert format_problems(parsed, max_shown=13).count("• ") == 13
    assert "more problem" not in format_problems(parsed, max_shown=13)


def test_format_problems_singular_and_ok() -> None:
    one = parse(csv_bytes(rows(3)), "few.csv")
    assert format_problems(one).startswith(
        "`few.csv` was not stored: 1 problem\n• The file has only 3 examples"
    )
    good = parse(tutorial_csv(), "t.csv")
    assert format_problems(good) == "`t.csv` looks good: 15 examples."


def test_sha256_same_for_same_bytes() -> None:
    data = tutorial_jsonl()
    a = parse(data, "a.jsonl")
    b = parse_dataset(io.BytesIO(data), "renamed.txt")
    assert a.sha256 == b.sha256 == hashlib.sha256(data).hexdigest()
    assert parse(data + b"\n", "a.jsonl").sha256 != a.sha256
    bad = parse(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100_000, "x.csv")
    assert bad.sha256 == hashlib.sha256(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100_000).hexdigest()


def test_not_utf8_offset_is_exact() -> None:
    data = csv_bytes(rows(12)) + "é,1\n".encode("latin-1")
    parsed = parse(data, "x.csv")
    offset = data.index(b"\xe9")
    assert f"byte 0xE9 at byte offset {offset:,} is not valid UTF-8" in messages(parsed)
    assert "Latin-1" in messages(parsed)


def test_not_utf8_in_json_offset_is_exact() -> None:
    data = json.dumps([{"input": "x" * 300_000, "output": "b"}]).encode() + "ü".encode("latin-1")
    data = b"[" + data[1:-2] + b', "z\xfc"]'
    parsed = parse(data, "x.json")
    offset = data.index(b"z\xfc") + 1
    assert f"at byte offset {offset:,}" in messages(parsed)


def test_json_syntax_error_has_line_and_column() -> None:
    data = b'[\n  {"input": "a", "output": "b"},\n  {"input": "c" "output": "d"}\n]'
    parsed = parse(data, "x.json")
    assert (
        str(parsed.problems[0])
        == "line 3: the JSON is malformed at column 17: expected `,` or `}` after a value"
    )


def test_jsonl_line_numbers_count_blank_lines() -> None:
    data = tutorial_jsonl().replace(b"\n", b"\n\n", 2) + b"{oops}\n"
    parsed = parse(data, "x.jsonl")
    assert [p.location for p in parsed.problems] == ["line 18"]


@pytest.mark.parametrize(
    ("repeats", "said"),
    [(1, "1 example repeats an earlier one exactly"), (2, "2 examples repeat an earlier one exactly")],
)
def test_repeated_examples_are_counted_in_plain_english(repeats: int, said: str) -> None:
    examples = rows(10)
    parsed = parse(csv_bytes(examples + examples[:repeats]), "x.csv")
    assert parsed.ok
    assert said in parsed.warnings
