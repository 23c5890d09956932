"""A loopback HTTP proxy in front of the emulator that forwards a chosen request and then
never answers it: the service has acted, the caller has not heard. Used to kill
`tunebot run` in exactly that window."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from standins.loopback import BackgroundServer

Hold = Callable[[str, str], bool]  # (HTTP method, path) -> hold the answer?


class HoldingProxy:
    def __init__(self, target: str, hold: Hold) -> None:
        self.target = target.rstrip("/")
        self.hold = hold
        self.held = threading.Event()  # set once a held request has been forwarded and answered
        self._server = BackgroundServer(self._app())

    @property
    def url(self) -> str:
        return self._server.url

    def _app(self) -> Starlette:
        async def forward(request: Request) -> Response:
            body = await request.body()
            headers = {
                k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
            }
            async with httpx.AsyncClient(timeout=30) as client:
                answer = await client.request(
                    request.method,
                    self.target + request.url.path,
                    params=request.query_params.multi_items(),
                    headers=headers,
                    content=body,
                )
            if self.hold(request.method, request.url.path):
                self.held.set()
                await asyncio.sleep(3600)  # until the caller dies or the proxy stops
            excluded = ("content-length", "content-encoding", "transfer-encoding", "connection")
            return Response(
                answer.content,
                status_code=answer.status_code,
                headers={k: v for k, v in answer.headers.items() if k.lower() not in excluded},
            )

        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])

    def __enter__(self) -> HoldingProxy:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
