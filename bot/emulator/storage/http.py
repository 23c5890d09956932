"""The Cloud Storage surface over HTTP (JSON API paths).

POST   /upload/storage/v1/b/{bucket}/o?uploadType=media&name=N    objects.insert (media)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.emulator.core.errors import ApiError, invalid_argument
from bot.emulator.core.http import guarded
from bot.emulator.core.runtime import Runtime
from bot.emulator.storage.service import StorageService


def authenticate(request: Request) -> None:
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
            status="UNAUTHENTICATED",
        )


def make_upload_handler(runtime: Runtime, storage: StorageService) -> Callable[[Request], Any]:
    async def handle(kind: str, request: Request) -> Response:
        if request.query_params.get("uploadType") != "media":
            raise invalid_argument("Only uploadType=media is emulated.")
        data = await request.body()
        return JSONResponse(
            storage.insert(request.path_params["bucket"], request.query_params.get("name"), data)
        )

    async def upload(request: Request) -> Response:
        return await guarded(
            runtime,
            request,
            lambda _request: "storage.objects.insert",
            authenticate,
            handle,
            unrouted="storage.objects.insert",
        )

    return upload


def routes(runtime: Runtime, storage: StorageService) -> list[BaseRoute]:
    return [Route("/upload/storage/v1/b/{bucket}/o", make_upload_handler(runtime, storage), methods=["POST"])]
