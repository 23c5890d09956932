"""Cloud Storage buckets and objects as the emulator keeps them: content, generation, checksums
(MD5 and CRC32C, base64 as GCS writes them), content type and times; resumable upload sessions.

Every bucket exists (the emulator has no buckets.insert) except that writes to the buckets in
`denied_buckets` are refused with 403, as when the caller lacks storage.objects.create.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import google_crc32c

from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import ApiError, invalid_argument, not_found
from standins.emulator.core.runtime import Runtime

PROJECT_NUMBER = "123456789012"
OBJECT_FIELDS = frozenset(
    {
        "name",
        "bucket",
        "contentType",
        "contentEncoding",
        "contentDisposition",
        "contentLanguage",
        "cacheControl",
        "metadata",
        "md5Hash",
        "crc32c",
        "storageClass",
        "kmsKeyName",
        "customTime",
        "temporaryHold",
        "eventBasedHold",
        "acl",
        "retention",
    }
)


@dataclass
class StoredObject:
    bucket: str
    name: str
    data: bytes
    generation: int
    content_type: str
    create_time: float
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def md5(self) -> str:
        return md5_hash(self.data)

    @property
    def crc32c(self) -> str:
        return crc32c_hash(self.data)

    def to_json(self, base_url: str) -> dict[str, Any]:
        path = f"b/{quote(self.bucket, safe='')}/o/{quote(self.name, safe='')}"
        created = rfc3339(self.create_time)
        out: dict[str, Any] = {
            "kind": "storage#object",
            "id": f"{self.bucket}/{self.name}/{self.generation}",
            "selfLink": f"{base_url}/storage/v1/{path}",
            "mediaLink": f"{base_url}/download/storage/v1/{path}?generation={self.generation}&alt=media",
            "name": self.name,
            "bucket": self.bucket,
            "generation": str(self.generation),
            "metageneration": "1",
            "contentType": self.content_type,
            "storageClass": "STANDARD",
            "size": str(len(self.data)),
            "md5Hash": self.md5,
            "crc32c": self.crc32c,
            "etag": base64.b64encode(self.generation.to_bytes(8, "big")).decode().rstrip("="),
            "timeCreated": created,
            "updated": created,
            "timeStorageClassUpdated": created,
        }
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


@dataclass
class UploadSession:
    """A resumable upload: the object metadata sent at initiation and the bytes received so far."""

    id: str
    bucket: str
    name: str
    content_type: str
    metadata: dict[str, str]
    expected_size: int | None
    checksums: dict[str, str]
    received: bytearray = field(default_factory=bytearray)


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


def no_such_object(bucket: str, name: str) -> ApiError:
    return not_found(f"No such object: {bucket}/{name}")


class StorageService:
    def __init__(self, runtime: Runtime, *, denied_buckets: frozenset[str] = frozenset()) -> None:
        self._runtime = runtime
        self._lock = runtime.lock
        self._denied = denied_buckets
        self._last_generation = 0
        self._bucket_times: dict[str, float] = {}
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.sessions: dict[str, UploadSession] = {}
        # Buckets whose objects the caller may not read (403, as without storage.objects.get),
        # and buckets that do not exist (404): tests add to them.
        self.unreadable_buckets: set[str] = set()
        self.missing_buckets: set[str] = set()
        # Objects whose downloads break off after this many bytes (the connection closes
        # mid-body, as when a network path fails): tests add to it, by (bucket, name).
        self.cut_downloads: dict[tuple[str, str], int] = {}

    def reset(self) -> None:
        with self._lock:
            self.objects.clear()
            self.sessions.clear()
            self._bucket_times.clear()

    def view(self) -> ObjectBytes:
        return ObjectBytes(self.objects)

    def read(self, bucket: str, name: str) -> bytes | None:
        with self._lock:
            stored = self.objects.get((bucket, name))
            return stored.data if stored is not None else None

    # -- buckets -------------------------------------------------------------------------------

    def bucket_json(self, bucket: str, base_url: str) -> dict[str, Any]:
        with self._lock:
            created = rfc3339(self._bucket_times.setdefault(bucket, self._runtime.now()))
        return {
            "kind": "storage#bucket",
            "selfLink": f"{base_url}/storage/v1/b/{quote(bucket, safe='')}",
            "id": bucket,
            "name": bucket,
            "projectNumber": PROJECT_NUMBER,
            "metageneration": "1",
            "location": "US",
            "storageClass": "STANDARD",
            "etag": "CAE=",
            "timeCreated": created,
            "updated": created,
            "locationType": "multi-region",
        }

    # -- objects -------------------------------------------------------------------------------

    def _check_writable(self, bucket: str) -> None:
        if bucket in self._denied:
            raise ApiError(
                403,
                f"tunebot@emulator.iam.gserviceaccount.com does not have storage.objects.create access "
                f"to the Google Cloud Storage object. Permission 'storage.objects.create' denied on "
                f"resource (or it may not exist). Bucket: {bucket}",
                status="PERMISSION_DENIED",
            )

    def _next_generation(self) -> int:
        generation = max(self._last_generation + 1, int(self._runtime.now() * 1_000_000))
        self._last_generation = generation
        return generation

    def insert(
        self,
        bucket: str,
        name: str | None,
        data: bytes,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> StoredObject:
        """Store an object; `metadata` is the JSON object resource the client sent (checked)."""
        meta = dict(metadata or {})
        unknown = sorted(set(meta) - OBJECT_FIELDS)
        if unknown:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{unknown[0]}".')
        name = name or meta.get("name")
        if not name:
            raise invalid_argument("Required parameter: name", field="name")
        self._check_writable(bucket)
        computed = {"md5Hash": md5_hash(data), "crc32c": crc32c_hash(data)}
        for key, value in computed.items():
            sent = meta.get(key)
            if sent is not None and sent != value:
                label = "MD5" if key == "md5Hash" else "CRC32C"
                raise invalid_argument(
                    f'Provided {label} hash "{sent}" doesn\'t match calculated {label} hash "{value}".'
                )
        custom = meta.get("metadata") or {}
        with self._lock:
            stored = StoredObject(
                bucket,
                str(name),
                bytes(data),
                self._next_generation(),
                str(meta.get("contentType") or content_type or "application/octet-stream"),
                self._runtime.now(),
                {str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {},
            )
            self._bucket_times.setdefault(bucket, stored.create_time)
            self.objects[(bucket, stored.name)] = stored
            return stored

    def _check_readable(self, bucket: str, name: str) -> None:
        if bucket in self.missing_buckets:
            raise not_found("The specified bucket does not exist.")
        if bucket in self.unreadable_buckets:
            raise ApiError(
                403,
                "tunebot@emulator.iam.gserviceaccount.com does not have storage.objects.get access to the "
                f"Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it "
                f"may not exist). Object: {bucket}/{name}",
                status="PERMISSION_DENIED",
            )

    def get(self, bucket: str, name: str, generation: str | None = None) -> StoredObject:
        self._check_readable(bucket, name)
        with self._lock:
            stored = self.objects.get((bucket, name))
        if stored is None or (generation and generation != str(stored.generation)):
            raise no_such_object(bucket, name)
        return stored

    def delete(self, bucket: str, name: str) -> None:
        self._check_writable(bucket)
        with self._lock:
            if self.objects.pop((bucket, name), None) is None:
                raise no_such_object(bucket, name)

    def list(self, bucket: str, prefix: str = "") -> list[StoredObject]:
        with self._lock:
            return sorted(
                (o for (b, n), o in self.objects.items() if b == bucket and n.startswith(prefix)),
                key=lambda o: o.name,
            )

    # -- resumable uploads ---------------------------------------------------------------------

    def start_upload(
        self, bucket: str, metadata: Mapping[str, Any], content_type: str | None, size: int | None
    ) -> UploadSession:
        meta = dict(metadata)
        unknown = sorted(set(meta) - OBJECT_FIELDS)
        if unknown:
            raise invalid_argument(f'Invalid JSON payload received. Unknown name "{unknown[0]}".')
        name = meta.get("name")
        if not name:
            raise invalid_argument("Required parameter: name", field="name")
        self._check_writable(bucket)
        checksums: dict[str, str] = {k: str(meta.pop(k)) for k in ("md5Hash", "crc32c") if k in meta}
        session = UploadSession(
            secrets.token_urlsafe(24),
            bucket,
            str(name),
            str(meta.get("contentType") or content_type or "application/octet-stream"),
            dict(meta.get("metadata") or {}),
            size,
            checksums,
        )
        with self._lock:
            self.sessions[session.id] = session
        return session

    def session(self, upload_id: str) -> UploadSession:
        with self._lock:
            session = self.sessions.get(upload_id)
        if session is None:
            raise not_found("No such upload session.")
        return session

    def finish_upload(self, session: UploadSession) -> StoredObject:
        with self._lock:
            self.sessions.pop(session.id, None)
        meta: dict[str, Any] = {
            "name": session.name,
            "contentType": session.content_type,
            **session.checksums,
        }
        if session.metadata:
            meta["metadata"] = session.metadata
        return self.insert(session.bucket, session.name, bytes(session.received), metadata=meta)
