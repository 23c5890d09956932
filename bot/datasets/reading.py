"""Reading an upload once: bytes hashed and size-capped as they arrive, text decoded as UTF-8
in chunks, and a strict UTF-8 error that says where."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
from collections.abc import Iterator
from typing import IO, Any

CHUNK = 256 * 1024


class TooLarge(Exception):
    pass


class NotUtf8(Exception):
    def __init__(self, offset: int, bad: bytes, line: int | None = None) -> None:
        super().__init__(offset)
        self.offset = offset
        self.bad = bad
        self.line = line


class HashingRaw(io.RawIOBase):
    """Reads the source once, hashing and counting every byte and enforcing the size cap."""

    def __init__(self, source: IO[bytes], max_bytes: int) -> None:
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
            raise TooLarge
        self.hasher.update(data)
        buffer[:n] = data
        return n


def text_chunks(reader: io.BufferedReader, offset: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    while True:
        data = reader.read1(CHUNK)
        pending = len(decoder.getstate()[0])
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            joined = exc.object
            raise NotUtf8(offset - pending + exc.start, joined[exc.start : exc.start + 1]) from None
        offset += len(data)
        if text:
            yield text
        if not data:
            return


def open_source(source: bytes | IO[bytes]) -> tuple[IO[bytes], int | None]:
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


def extension(filename: str) -> str:
    return os.path.splitext(filename.lower())[1]
