"""Regenerate the dataset corpus: `python tests/data/make_corpus.py`.

Writes tests/data/good/* and tests/data/bad/* plus an EXPECTED.json in each: for good files
the format and example count, for bad files a substring the uploader must see. Large
files (10 MB lines, files over the size cap) are not written here; the tests make them.
"""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent

TUTORIAL: list[tuple[str, str]] = [
    ("1", "2"),
    ("3", "4"),
    ("-3", "-2"),
    ("twenty two", "twenty three"),
    ("two hundred", "two hundred one"),
    ("ninety nine", "one hundred"),
    ("8", "9"),
    ("-98", "-97"),
    ("1,000", "1,001"),
    ("10,100,000", "10,100,001"),
    ("thirteen", "fourteen"),
    ("eighty", "eighty one"),
    ("one", "two"),
    ("three", "four"),
    ("seven", "eight"),
]
ROMAN_NUMERALS = "I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX"
ROMAN = [(str(n), r) for n, r in enumerate(ROMAN_NUMERALS.split(" "), start=1)]


def csv_quote(value: str) -> str:
    if any(ch in value for ch in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(pairs: list[tuple[str, str]], header: str = "text_input,output", nl: str = "\n") -> str:
    return nl.join([header, *(f"{csv_quote(a)},{csv_quote(b)}" for a, b in pairs)]) + nl


def jsonl_text(pairs: list[tuple[str, str]], a: str = "text_input", b: str = "output") -> str:
    return "".join(json.dumps({a: x, b: y}, ensure_ascii=False) + "\n" for x, y in pairs)


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def xlsx_bytes() -> bytes:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


def good() -> dict[str, tuple[bytes, str, int]]:
    tut_json = [{"text_input": a, "output": b} for a, b in TUTORIAL]
    body = {"examples": {"examples": [{"textInput": a, "output": b} for a, b in TUTORIAL]}}
    multiline = [*TUTORIAL, ('say "hi"\non two lines', "hello, again\nand again")]
    create_body = (
        '{\n"display_name": "number generator model",\n"base_model": "models/gemini-1.5-flash-001-tuning",\n'
        '"tuning_task": {\n"hyperparameters": {\n"batch_size": 2,\n"learning_rate": 0.001,\n'
        '"epoch_count":5,\n},\n"training_data": {\n"examples": {\n"examples": [\n'
        + ",".join(f'{{\n"text_input": "{a}",\n"output": "{b}",\n}}' for a, b in TUTORIAL)
        + "\n]\n}\n}\n}\n}\n"
    )
    return {
        # Conversations as OpenAI and Vertex AI write them (one turn each here).
        "openai_chat.jsonl": (
            "".join(
                json.dumps(
                    {"messages": [{"role": "user", "content": a}, {"role": "assistant", "content": b}]}
                )
                + "\n"
                for a, b in TUTORIAL
            ).encode(),
            "jsonl",
            15,
        ),
        "vertex_contents.jsonl": (
            "".join(
                json.dumps(
                    {
                        "contents": [
                            {"role": "user", "parts": [{"text": a}]},
                            {"role": "model", "parts": [{"text": b}]},
                        ]
                    }
                )
                + "\n"
                for a, b in TUTORIAL
            ).encode(),
            "jsonl",
            15,
        ),
        "tutorial.csv": (csv_text(TUTORIAL).encode(), "csv", 15),
        "tutorial_bom_crlf.csv": (b"\xef\xbb\xbf" + csv_text(multiline, nl="\r\n").encode(), "csv", 16),
        "tutorial.tsv": (
            "\n".join(["input\toutput", *(f"{a}\t{b}" for a, b in TUTORIAL)]).encode(),
            "tsv",
            15,
        ),
        "tsv_named.csv": (
            "\n".join(["prompt\tresponse", *(f"{a}\t{b}" for a, b in ROMAN)]).encode(),
            "tsv",
            20,
        ),
        "semicolons.csv": (
            "\n".join(["Question;Answer", *(f"{a};{b}" for a, b in ROMAN)]).encode(),
            "csv",
            20,
        ),
        "extra_columns.csv": (
            (
                "id,Prompt,notes,Completion\n"
                + "".join(f"{i},{a},n/a,{b}\n" for i, (a, b) in enumerate(ROMAN))
            ).encode(),
            "csv",
            20,
        ),
        "tutorial.json": (json.dumps(tut_json, indent=2).encode(), "json", 15),
        "tutorial.jsonl": (jsonl_text(TUTORIAL).encode(), "jsonl", 15),
        "blank_lines_crlf.jsonl": (
            jsonl_text(ROMAN, "input", "target").replace("\n", "\r\n\r\n").encode(),
            "jsonl",
            20,
        ),
        "api_body.json": (json.dumps(body).encode(), "gemini", 15),
        "loose_body.json": (json.dumps({"examples": tut_json}, indent=1).encode(), "gemini", 15),
        "tutorial_create_body.json": (create_body.encode(), "gemini", 15),
        "jsonl_content.txt": (jsonl_text(ROMAN, "prompt", "completion").encode(), "jsonl", 20),
        "extra_keys.jsonl": (
            "".join(
                json.dumps({"id": i, "question": a, "answer": b}) + "\n" for i, (a, b) in enumerate(ROMAN)
            ).encode(),
            "jsonl",
            20,
        ),
        "unicode.jsonl": (
            jsonl_text([(f"안녕 {a} 🎉", f"«{b}» — ünïcödé") for a, b in ROMAN]).encode(),
            "jsonl",
            20,
        ),
    }


def bad() -> dict[str, tuple[bytes, str]]:
    rows = csv_text(TUTORIAL)
    lines = rows.splitlines()
    body = json.dumps([{"text_input": a, "output": b} for a, b in TUTORIAL], indent=2)
    jl = jsonl_text(TUTORIAL).splitlines()
    return {
        "latin1.csv": (
            csv_text([*TUTORIAL, ("café", "crème brûlée")]).encode("latin-1"),
            "0xE9 at byte offset",
        ),
        "windows_1252_quotes.txt": (
            csv_text([*TUTORIAL, ("\u201cquoted\u201d", "yes")]).encode("cp1252"),
            "save the file as UTF-8",
        ),
        "utf16_bom.csv": (
            csv_text(TUTORIAL).encode("utf-16"),
            "UTF-16 text (it starts with a UTF-16 byte-order mark)",
        ),
        "utf16le_no_bom.tsv": ("input\toutput\n1\t2\n".encode("utf-16-le"), "UTF-16 text (little-endian"),
        "image.csv": (png_bytes(), "this looks like a PNG image, not a text file"),
        "photo.jsonl": (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)), "a JPEG image"),
        "workbook_renamed.csv": (xlsx_bytes(), "an Excel workbook (.xlsx)"),
        "old_excel.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "old-style Office file"),
        "document.csv": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "a PDF document"),
        "examples.csv.gz": (b"\x1f\x8b\x08\x00" + zlib.compress(rows.encode()), "gzip-compressed"),
        "notes.rtf.txt": (
            b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} text_input, output}",
            "RTF document",
        ),
        "web_page.csv": (
            b"<!DOCTYPE html>\n<html><head><title>Examples</title></head><body></body></html>\n",
            "HTML web page",
        ),
        "slack_sign_in.json": (
            b'\n\n<html lang="en"><head><title>Slack</title></head></html>',
            "HTML web page",
        ),
        "data.xml": (b'<?xml version="1.0"?>\n<examples><e in="1" out="2"/></examples>\n', "XML file"),
        "nul_bytes.csv": (b"text_input,output\n1,2\x00\x00\n", "NUL bytes"),
        "empty.csv": (b"", "the file is empty (0 bytes)"),
        "whitespace.jsonl": (b"\n \n\t\r\n", "only whitespace"),
        "header_only.csv": (b"text_input,output\n", "a header row but no examples"),
        "header_only_bom_crlf.csv": (
            b"\xef\xbb\xbfprompt,completion\r\n\r\n",
            "a header row but no examples",
        ),
        "missing_column.csv": (
            "\n".join([*lines[:5], "seven", *lines[5:]]).encode(),
            "row 6: has 1 column but the header has 2; the `output` value is missing",
        ),
        "unbalanced_quote.csv": (
            csv_text([*ROMAN[:8], ('"oops', "unclosed"), *ROMAN[8:]]).replace('"""oops"', '"oops').encode(),
            "row 10: a quoted value that starts on line 10 is never closed",
        ),
        "unbalanced_quote_midfile.csv": (
            "\n".join([*lines[:8], '"oops,unclosed', *lines[8:]]).encode(),
            "row 9: a quoted value that starts on line 9 is not closed where it should be",
        ),
        "stray_quote.csv": (
            "\n".join([*lines[:3], '"he said "hi" twice",greeting', *lines[3:]]).encode(),
            "must be doubled",
        ),
        "unquoted_comma.csv": (
            "\n".join([*lines[:4], "hello, world,greeting", *lines[4:]]).encode(),
            "row 5: has 3 columns but the header has 2",
        ),
        "wrong_columns.csv": (
            csv_text(TUTORIAL, header="number,next").encode(),
            "no usable columns: the header row is `number`, `next`",
        ),
        "no_header.csv": ("\n".join(lines[1:]).encode(), "no usable columns: the header row is `1`, `2`"),
        "only_input_column.tsv": (b"prompt\tlabel\nhi\tthere\n", "an output column named one of"),
        "chat_columns.csv": (
            b'messages\n"[{""role"": ""user""}]"\n',
            "the file has a column `messages`: conversations are read from JSON Lines",
        ),
        "empty_input.csv": (
            csv_text([*TUTORIAL[:5], ("", "nothing"), *TUTORIAL[5:]]).encode(),
            "row 7, `text_input`: is empty",
        ),
        "output_5001.csv": (
            csv_text([*TUTORIAL, ("long", "z" * 5001)]).encode(),
            "row 17, `output`: is 5,001 characters; the limit is 5,000",
        ),
        "input_40001.jsonl": (
            jsonl_text([*TUTORIAL, ("a" * 40_001, "b")]).encode(),
            "line 16, `text_input`: is 40,001 characters; the limit is 40,000",
        ),
        "too_few.csv": (
            csv_text(TUTORIAL[:3]).encode(),
            "the file has only 3 examples; at least 10 are needed",
        ),
        "empty_array.json": (b"[]\n", "the file has no examples"),
        "cut_off.json": (body[: len(body) // 2].encode(), "looks cut off"),
        "bad_escape.json": (b'[{"text_input": "C:\\path", "output": "x"}]', "invalid \\escape"),
        "two_documents.json": (
            b'[{"text_input": "1", "output": "2"}]\n[]\n',
            "more text after the end of the JSON",
        ),
        "broken_line.jsonl": (
            "\n".join([*jl[:3], '{"text_input": "4", "output": 5"}', *jl[3:]]).encode(),
            "line 4: is not valid JSON",
        ),
        "commas.jsonl": (("".join(line + ",\n" for line in jl)).encode(), "with no comma"),
        "array_lines.jsonl": (
            "".join(json.dumps([a, b]) + "\n" for a, b in TUTORIAL).encode(),
            "is a list, not an object",
        ),
        "body_without_examples.json": (
            json.dumps(
                {"displayName": "numbers", "baseModel": "models/gemini-1.5-flash-001-tuning"}
            ).encode(),
            "has no `examples` key (found `displayName`, `baseModel`)",
        ),
        "examples_not_a_list.json": (
            json.dumps({"examples": "see attached"}).encode(),
            "not a list of examples",
        ),
        "examples_inner_missing.json": (
            json.dumps({"examples": {"items": []}}).encode(),
            "but no `examples` list",
        ),
        "single_object.json": (
            json.dumps({"text_input": "1", "output": "2"}).encode(),
            "single example object",
        ),
        "sharegpt.jsonl": (
            "".join(
                json.dumps({"conversations": [{"from": "human", "value": a}, {"from": "gpt", "value": b}]})
                + "\n"
                for a, b in TUTORIAL
            ).encode(),
            "lines 1, 2, 3, 4, 5 and 10 more: is a chat record in a format tunebot does not read "
            "(`conversations`): tunebot reads Vertex AI's tuning format",
        ),
        "generate_content_body.json": (
            json.dumps({"contents": [{"parts": [{"text": "LXIII"}]}]}).encode(),
            "the file is one JSON object with `contents`: conversations are read from JSON Lines",
        ),
        "numbers.json": (
            json.dumps(
                [{"text_input": int(a), "output": int(b)} for a, b in TUTORIAL if a.lstrip("-").isdigit()]
                + [{"text_input": a, "output": b} for a, b in TUTORIAL[:5]]
            ).encode(),
            'is a number (1), not text; the API needs text, so write it in quotes: "1"',
        ),
        "nulls.jsonl": (
            jsonl_text(TUTORIAL).replace('"output": "4"', '"output": null').encode(),
            "line 2, `output`: is null",
        ),
        "booleans.json": (
            json.dumps([{"input": a, "output": True} for a, _ in TUTORIAL]).encode(),
            "is a boolean (true)",
        ),
        "nested_values.jsonl": (
            "".join(json.dumps({"input": {"text": a}, "output": [b]}) + "\n" for a, b in TUTORIAL).encode(),
            "is an object, not text",
        ),
        "wrong_keys.jsonl": (
            jsonl_text(TUTORIAL, "q", "a").encode(),
            "has no input field (keys found: `q`, `a`)",
        ),
        "blank_output.jsonl": (
            jsonl_text([*TUTORIAL[:9], ("x", "   "), *TUTORIAL[9:]]).encode(),
            "line 10, `output`: is empty (only whitespace)",
        ),
        "old_mac.csv": (csv_text(TUTORIAL, nl="\r").encode(), "old Mac line endings"),
        "not_json.json": (csv_text(TUTORIAL).encode(), "does not start with `[` or `{`"),
    }


def main() -> None:
    for name, files in (("good", good()), ("bad", bad())):
        folder = HERE / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        expected: dict[str, object] = {}
        for filename, (data, *rest) in sorted(files.items()):
            (folder / filename).write_bytes(data)
            expected[filename] = {"format": rest[0], "examples": rest[1]} if name == "good" else rest[0]
        (folder / "EXPECTED.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
