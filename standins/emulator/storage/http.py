"""The Cloud Storage surface over HTTP (the JSON API's paths), as google-cloud-storage uses it.

    POST   /upload/storage/v1/b/{b}/o?uploadType=media&name=N     objects.insert (media)
    POST   /upload/storage/v1/b/{b}/o?uploadType=multipart        objects.insert (metadata + media)
    POST   /upload/storage/v1/b/{b}/o?uploadType=resumable        start a session (Location header)
    PUT    {Location}  with Content-Range                         a chunk: 308 + Range, then 200
    GET    /storage/v1/b/{b}                                      buckets.get
    GET    /storage/v1/b/{b}/o[?prefix=]                          objects.list
    GET    /storage/v1/b/{b}/o/{name}[?alt=media]                 objects.get (metadata or content,
                                                                  streamed; 403/404 as GCS words them)
    GET    /download/storage/v1/b/{b}/o/{name}?alt=media          objects.get (content)
    DELETE /storage/v1/b/{b}/o/{name}                             objects.delete

Every call needs `Authorization: Bearer …` (any non-empty token): an anonymous one is answered
401 with GCS's error body (`{"error": {"code", "message", "errors": [{…, "reason": "required"}]}}`).
Content answers carry `x-goog-hash: crc32c=…,md5=…` and `x-goog-generation`, which the clients
check.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from standins.emulator.core.errors import ApiError, invalid_argument
from standins.emulator.core.http import guarded
from standins.emulator.core.runtime import Runtime
from standins.emulator.storage.service import StorageService, StoredObject, UploadSession

REASONS = {400: "invalid", 401: "required", 403: "forbidden", 404: "notFound", 412: "conditionNotMet"}
PERMISSIONS = {
    "storage.objects.insert": ("storage.objects.create", "object"),
    "storage.objects.get": ("storage.objects.get", "object"),
    "storage.objects.list": ("storage.objects.list", "bucket"),
    "storage.objects.delete": ("storage.objects.delete", "object"),
    "storage.buckets.get": ("storage.buckets.get", "bucket"),
}
_CONTENT_RANGE = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")
Handler = Callable[[Request], Any]
MEDIA_PIECE = 64 * 1024  # a download's body is sent this much at a time


def gcs_error(error: ApiError) -> Response:
    """GCS's JSON API error body: code, message and an `errors` list with a reason."""
    if error.raw_body is not None:
        return Response(
            error.raw_body, status_code=error.code, headers=error.headers, media_type="text/plain"
        )
    item: dict[str, Any] = {
        "message": error.message,
        "domain": "global",
        "reason": REASONS.get(error.code, "backendError"),
    }
    if error.code == 401:
        item |= {"locationType": "header", "location": "Authorization"}
    body = {"error": {"code": error.code, "message": error.message, "errors": [item]}}
    return JSONResponse(body, status_code=error.code, headers=error.headers)


def authenticator(kind: str) -> Callable[[Request], None]:
    permission, what = PERMISSIONS[kind]

    def authenticate(request: Request) -> None:
        scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                f"Anonymous caller does not have {permission} access to the Google Cloud Storage {what}. "
                f"Permission '{permission}' denied on resource (or it may not exist).",
                status="UNAUTHENTICATED",
            )

    return authenticate


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _object_response(stored: StoredObject, request: Request) -> Response:
    return JSONResponse(stored.to_json(_base_url(request)))


class DownloadCut(Exception):
    """Ends a download mid-body: the server closes the connection without the rest."""


def _media_response(stored: StoredObject, request: Request, cut_after: int | None = None) -> Response:
    data = stored.data
    status = 200
    headers = {
        "x-goog-hash": f"crc32c={stored.crc32c},md5={stored.md5}",
        "x-goog-generation": str(stored.generation),
        "x-goog-metageneration": "1",
        "x-goog-stored-content-length": str(len(stored.data)),
        "x-goog-storage-class": "STANDARD",
    }
    wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", request.headers.get("range", ""))
    if wanted:
        start = int(wanted.group(1))
        end = int(wanted.group(2)) if wanted.group(2) else len(data) - 1
        end = min(end, len(data) - 1)
        if start <= end:
            headers["content-range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
    headers["content-length"] = str(len(data))

    async def pieces() -> AsyncIterator[bytes]:  # streamed, as GCS sends a large object
        for start in range(0, len(data), MEDIA_PIECE):
            if cut_after is not None and start >= cut_after:
                raise DownloadCut(f"download of {stored.name} cut off after {start} bytes")
            yield data[start : start + MEDIA_PIECE]

    return StreamingResponse(pieces(), status_code=status, headers=headers, media_type=stored.content_type)


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], bytes, str | None]:
    """A multipart/related body -> (JSON metadata, media, media content type)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/related") or match is None:
        raise invalid_argument("uploadType=multipart needs a multipart/related body with a boundary.")
    delimiter = b"--" + match.group(1).encode()
    pieces = body.split(delimiter)
    parts: list[tuple[dict[str, str], bytes]] = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break
        head, sep, content = piece.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise invalid_argument("Malformed multipart body: a part has no header block.")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        parts.append((headers, content.removesuffix(b"\r\n")))
    if len(parts) != 2:
        raise invalid_argument(
            f"A multipart upload has exactly two parts (metadata, media), not {len(parts)}."
        )
    try:
        metadata = json.loads(parts[0][1] or b"{}")
    except ValueError as exc:
        raise invalid_argument(f"Invalid JSON payload received in the metadata part: {exc}") from exc
    if not isinstance(metadata, dict):
        raise invalid_argument("The metadata part must be a JSON object.")
    return metadata, parts[1][1], parts[1][0].get("content-type")


def _upload_chunk(storage: StorageService, session: UploadSession, request: Request, data: bytes) -> Response:
    header = request.headers.get("content-range")
    total: int | None = session.expected_size
    if header is None:
        session.received[:] = data
        total = len(data)
    else:
        match = _CONTENT_RANGE.match(header.strip())
        if match is None:
            raise invalid_argument(f"Invalid Content-Range header: {header}")
        first, last, size = match.groups()
        if size != "*":
            total = int(size)
        if first is not None:
            start, end = int(first), int(last)
            if end - start + 1 != len(data):
                raise invalid_argument(
                    f"Content-Range {header} says {end - start + 1} bytes; the request has {len(data)}."
                )
            if start > len(session.received):
                raise invalid_argument(
                    f"Content-Range starts at {start}; {len(session.received)} bytes were received."
                )
            session.received[start:] = data
    hashes = request.headers.get("x-goog-hash", "")
    for item in hashes.split(","):
        label, _, value = item.strip().partition("=")
        if label in ("crc32c", "md5") and value:
            session.checksums["crc32c" if label == "crc32c" else "md5Hash"] = value
    if total is not None and len(session.received) >= total:
        if len(session.received) > total:
            raise invalid_argument(f"The upload has {len(session.received)} bytes, more than {total}.")
        return _object_response(storage.finish_upload(session), request)
    headers = {"x-guploader-uploadid": session.id}
    if session.received:
        headers["range"] = f"bytes=0-{len(session.received) - 1}"
    return Response(status_code=308, headers=headers)


def routes(runtime: Runtime, storage: StorageService) -> list[BaseRoute]:
    def endpoint(kind: str, work: Callable[[Request], Any]) -> Handler:
        authenticate = authenticator(kind)

        async def handle(_kind: str, request: Request) -> Response:
            response: Response = await work(request)
            return response

        async def serve(request: Request) -> Response:
            return await guarded(
                runtime, request, lambda _r: kind, authenticate, handle, unrouted=kind, render_error=gcs_error
            )

        return serve

    async def insert(request: Request) -> Response:
        bucket = request.path_params["bucket"]
        kind = request.query_params.get("uploadType")
        body = await request.body()
        if kind == "media":
            stored = storage.insert(
                bucket, request.query_params.get("name"), body, request.headers.get("content-type")
            )
            return _object_response(stored, request)
        if kind == "multipart":
            metadata, media, media_type = parse_multipart(body, request.headers.get("content-type", ""))
            if request.query_params.get("name"):
                metadata.setdefault("name", request.query_params["name"])
            return _object_response(storage.insert(bucket, None, media, media_type, metadata), request)
        if kind == "resumable":
            metadata = json.loads(body) if body.strip() else {}
            if not isinstance(metadata, dict):
                raise invalid_argument("The resumable upload's metadata must be a JSON object.")
            if request.query_params.get("name"):
                metadata.setdefault("name", request.query_params["name"])
            size = request.headers.get("x-upload-content-length")
            session = storage.start_upload(
                bucket,
                metadata,
                request.headers.get("x-upload-content-type"),
                int(size) if size and size.isdigit() else None,
            )
            location = (
                f"{_base_url(request)}/upload/storage/v1/b/{bucket}/o?uploadType=resumable"
                f"&upload_id={session.id}"
            )
            return Response(
                status_code=200, headers={"location": location, "x-guploader-uploadid": session.id}
            )
        raise invalid_argument(f"Invalid uploadType: {kind!r} (media, multipart or resumable).")

    async def upload_chunk(request: Request) -> Response:
        session = storage.session(request.query_params.get("upload_id", ""))
        return _upload_chunk(storage, session, request, await request.body())

    async def bucket_get(request: Request) -> Response:
        return JSONResponse(storage.bucket_json(request.path_params["bucket"], _base_url(request)))

    async def object_list(request: Request) -> Response:
        bucket = request.path_params["bucket"]
        items = [
            o.to_json(_base_url(request))
            for o in storage.list(bucket, request.query_params.get("prefix", ""))
        ]
        return JSONResponse({"kind": "storage#objects", **({"items": items} if items else {})})

    async def object_get(request: Request) -> Response:
        bucket, name = request.path_params["bucket"], request.path_params["name"]
        stored = storage.get(bucket, name, request.query_params.get("generation"))
        if request.query_params.get("alt") == "media":
            return _media_response(stored, request, storage.cut_downloads.get((bucket, name)))
        return _object_response(stored, request)

    async def object_delete(request: Request) -> Response:
        storage.delete(request.path_params["bucket"], request.path_params["name"])
        return Response(status_code=204)

    upload = "/upload/storage/v1/b/{bucket}/o"
    obj = "/storage/v1/b/{bucket}/o/{name:path}"
    return [
        Route(upload, endpoint("storage.objects.insert", insert), methods=["POST"]),
        Route(upload, endpoint("storage.objects.insert", upload_chunk), methods=["PUT"]),
        Route("/storage/v1/b/{bucket}", endpoint("storage.buckets.get", bucket_get), methods=["GET"]),
        Route("/storage/v1/b/{bucket}/o", endpoint("storage.objects.list", object_list), methods=["GET"]),
        Route(obj, endpoint("storage.objects.get", object_get), methods=["GET"]),
        Route(obj, endpoint("storage.objects.delete", object_delete), methods=["DELETE"]),
        Route("/download" + obj, endpoint("storage.objects.get", object_get), methods=["GET"]),
    ]
