"""Cloud Storage objects as the emulator keeps them: content, generation, checksums, times."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import google_crc32c

from bot.emulator.core.errors import ApiError, invalid_argument
from bot.emulator.core.runtime import Runtime


@dataclass
class StoredObject:
    bucket: str
    name: str
    data: bytes
    generation: int
    content_type: str
    create_time: float
    metadata: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "storage#object",
            "bucket": self.bucket,
            "name": self.name,
            "size": str(len(self.data)),
        }


class ObjectBytes(Mapping[tuple[str, str], bytes]):
    """A read-only view of the stored objects: (bucket, name) -> content."""

    def __init__(self, objects: Mapping[tuple[str, str], StoredObject]) -> None:
        self._objects = objects

    def __getitem__(self, key: tuple[str, str]) -> bytes:
        return self._objects[key].data

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._objects))

    def __len__(self) -> int:
        return len(self._objects)


def md5_hash(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def crc32c_hash(data: bytes) -> str:
    return base64.b64encode(google_crc32c.value(data).to_bytes(4, "big")).decode()


class StorageService:
    """Buckets exist on first write; `denied_buckets` answer writes with 403."""

    def __init__(self, runtime: Runtime, *, denied_buckets: frozenset[str] = frozenset()) -> None:
        self._runtime = runtime
        self._lock = runtime.lock
        self._denied = denied_buckets
        self._generation: Callable[[], int] = self._next_generation
        self._last_generation = 0
        self.objects: dict[tuple[str, str], StoredObject] = {}

    def reset(self) -> None:
        with self._lock:
            self.objects.clear()

    def view(self) -> ObjectBytes:
        return ObjectBytes(self.objects)

    def read(self, bucket: str, name: str) -> bytes | None:
        with self._lock:
            stored = self.objects.get((bucket, name))
            return stored.data if stored is not None else None

    def _next_generation(self) -> int:
        generation = max(self._last_generation + 1, int(self._runtime.now() * 1_000_000))
        self._last_generation = generation
        return generation

    def insert(
        self, bucket: str, name: str | None, data: bytes, content_type: str = "application/octet-stream"
    ) -> dict[str, Any]:
        if not name:
            raise invalid_argument("Required parameter: name", field="name")
        if bucket in self._denied:
            raise ApiError(
                403,
                f"tunebot@emulator.iam.gserviceaccount.com does not have storage.objects.create access "
                f"to the Google Cloud Storage object. Permission 'storage.objects.create' denied on "
                f"resource (or it may not exist). Bucket: {bucket}",
                status="PERMISSION_DENIED",
            )
        with self._lock:
            stored = StoredObject(bucket, name, data, self._generation(), content_type, self._runtime.now())
            self.objects[(bucket, name)] = stored
            return stored.to_json()
