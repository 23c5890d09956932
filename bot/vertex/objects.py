"""A Cloud Storage object read in place: its metadata, and its bytes as a blocking binary
stream that a parser in a worker thread reads chunk by chunk while the download runs on the
event loop (nothing but the chunk being read is held; the object is never written anywhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

DOWNLOAD_CHUNK = 256 * 1024  # bytes handed to the parser at a time


@dataclass(frozen=True)
class CloudObject:
    """`gs://bucket/name`, split."""

    bucket: str
    name: str

    @property
    def uri(self) -> str:
        return f"gs://{self.bucket}/{self.name}"

    @property
    def file_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]

    @classmethod
    def from_uri(cls, uri: str) -> CloudObject:
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        return cls(bucket, name)


@dataclass(frozen=True)
class ObjectInfo:
    """What objects.get (without alt=media) says of an object."""

    bucket: str
    name: str
    size: int
    generation: str
    md5_hash: str | None = None
    content_type: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ObjectInfo:
        size = data.get("size")
        return cls(
            bucket=str(data.get("bucket", "")),
            name=str(data.get("name", "")),
            size=int(size) if isinstance(size, str | int) and str(size).isdigit() else 0,
            generation=str(data.get("generation", "")),
            md5_hash=str(data["md5Hash"]) if data.get("md5Hash") else None,
            content_type=str(data["contentType"]) if data.get("contentType") else None,
        )


class StreamReader(io.RawIOBase):
    """A blocking, read-once binary stream over an async byte iterator running on `loop`.

    Each `readinto` in the calling (worker) thread takes at most one chunk from the
    iterator, waiting for the event loop to download it: memory holds one chunk. The
    counters (`chunks`, `bytes_read`, `largest_chunk`) show how it was read. Must not be
    read from the event loop's own thread (it would wait for itself).
    """

    def __init__(self, chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._chunks = chunks
        self._loop = loop
        self._pending = memoryview(b"")
        self._done = False
        self.chunks = 0
        self.bytes_read = 0
        self.largest_chunk = 0
        self.head = b""  # the first chunk, kept to tell what the file's records are

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes | None:
        async def take() -> bytes | None:
            try:
                return await anext(self._chunks)
            except StopAsyncIteration:
                return None

        return asyncio.run_coroutine_threadsafe(take(), self._loop).result()

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._done:
                return 0
            chunk = self._next_chunk()
            if chunk is None:
                self._done = True
                return 0
            self.chunks += 1
            self.largest_chunk = max(self.largest_chunk, len(chunk))
            if not self.head:
                self.head = bytes(chunk)
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self.bytes_read += n
        return n

    def close(self) -> None:
        """Stop the download (it is closed on the loop); safe to call more than once."""
        if not self.closed and not self._done:
            self._done = True
            closer = getattr(self._chunks, "aclose", None)
            if closer is not None and not self._loop.is_closed():
                try:
                    on_loop = asyncio.get_running_loop() is self._loop
                except RuntimeError:
                    on_loop = False
                if on_loop:  # e.g. collected on the loop's thread: close without waiting
                    self._loop.create_task(closer())
                else:
                    with contextlib.suppress(Exception):  # closing a download that already failed
                        asyncio.run_coroutine_threadsafe(closer(), self._loop).result(timeout=30)
        super().close()


class FirstLines(io.RawIOBase):
    """The first `lines` lines of `source` (a JSON Lines file's first examples), then the end."""

    def __init__(self, source: io.RawIOBase, lines: int) -> None:
        self._source = source
        self._left = lines

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._left <= 0:
            return 0
        data = self._source.read(len(buffer)) or b""
        if not data:
            return 0
        end = 0
        while self._left > 0:
            found = data.find(b"\n", end)
            if found < 0:
                end = len(data)
                break
            end = found + 1
            self._left -= 1
        data = data[:end]
        buffer[: len(data)] = data
        return len(data)
