"""Looking at the first bytes of an upload: is it text at all, which encoding, which format."""

from __future__ import annotations

import json
import re

UTF8_BOM = b"\xef\xbb\xbf"

# (magic bytes, what it looks like) — checked in order against the start of the file.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Office file (.xls or .doc)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
    (b"{\\rtf", "an RTF document (save it as plain text instead)"),
)

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


def _zip_kind(head: bytes, filename: str) -> str:
    lowered = filename.lower()
    if b"xl/" in head or lowered.endswith((".xlsx", ".xlsm")):
        return "an Excel workbook (.xlsx)"
    if b"word/" in head or lowered.endswith(".docx"):
        return "a Word document (.docx)"
    if b"ppt/" in head:
        return "a PowerPoint file"
    if b"content.xml" in head or b"opendocument" in head:
        return "an OpenDocument file (LibreOffice)"
    return "a ZIP archive"


def binary_kind(head: bytes, filename: str) -> str | None:
    """What a non-text file looks like ("a PNG image"), or None when it may be text."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(head, filename)
    if head.startswith(b"bplist00"):
        return "a binary property list"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None


def utf16_kind(head: bytes) -> str | None:
    """Describe UTF-16/32 text (by byte-order mark or the zero-byte pattern), else None."""
    if head.startswith(_UTF32_BOMS):
        return "UTF-32 text (it starts with a UTF-32 byte-order mark)"
    if head.startswith(_UTF16_BOMS):
        return "UTF-16 text (it starts with a UTF-16 byte-order mark)"
    sample = head[:4096]
    if len(sample) >= 4 and b"\x00" in sample:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        half = len(sample) // 2
        if odd > 0.3 * half and even < 0.05 * half:
            return "UTF-16 text (little-endian, without a byte-order mark)"
        if even > 0.3 * half and odd < 0.05 * half:
            return "UTF-16 text (big-endian, without a byte-order mark)"
    return None


def looks_like_html(text_head: str) -> bool:
    start = text_head.lstrip()[:200].lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<body")) or (
        start.startswith("<?xml") and "<html" in start
    )


def looks_like_xml(text_head: str) -> bool:
    return text_head.lstrip().startswith("<?xml")


def describe_byte_encoding(sample: bytes) -> str:
    """A guess at what non-UTF-8 bytes are, for the message ("Latin-1 / Windows-1252 text")."""
    return "Latin-1 / Windows-1252 text"


_FIRST_LINE = re.compile(rb"[^\n]*")


def first_line(head: bytes) -> bytes:
    match = _FIRST_LINE.match(head)
    return match.group(0) if match else b""


def count_outside_quotes(line: str, chars: str) -> dict[str, int]:
    counts = dict.fromkeys(chars, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    return counts


def delimiter_for(header_line: str) -> str:
    """Tab, comma or semicolon, judged from the header line (counting outside quotes)."""
    counts = count_outside_quotes(header_line, "\t,;")
    tabs, commas, semis = counts["\t"], counts[","], counts[";"]
    if tabs and tabs >= commas:
        return "\t"
    if semis > commas and semis > tabs:
        return ";"
    return ","


def first_line_value(text_head: str) -> tuple[bool, object]:
    """(True, value) when the first non-blank line is a complete JSON value on its own."""
    for line in text_head.splitlines():
        if line.strip():
            try:
                return True, json.loads(line)
            except (ValueError, RecursionError):  # not JSON, or hostile (too deep, huge integer)
                return False, None
    return False, None


def non_blank_lines(text_head: str, limit: int = 2) -> list[str]:
    found: list[str] = []
    for line in text_head.splitlines():
        if line.strip():
            found.append(line.strip())
            if len(found) >= limit:
                break
    return found


def second_object_line(text_head: str) -> bool:
    """True when a second non-blank line also starts with `{` (JSON Lines rather than one object)."""
    seen = 0
    for line in text_head.splitlines():
        if line.strip():
            seen += 1
            if seen == 2:
                return line.lstrip().startswith("{")
    return False
