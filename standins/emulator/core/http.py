"""Pieces every emulated surface's HTTP handler uses: added latency, Google's error body, and
`guarded`, the route → authenticate → fault → handle → count sequence of one request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from standins.emulator.core.errors import ApiError
from standins.emulator.core.runtime import Runtime


def error_response(error: ApiError) -> Response:
    if error.raw_body is not None:
        return PlainTextResponse(error.raw_body, status_code=error.code, headers=error.headers)
    return JSONResponse(error.body(), status_code=error.code, headers=error.headers)


async def added_latency(runtime: Runtime) -> None:
    latency = runtime.faults.latency_seconds
    if latency > 0:
        await asyncio.sleep(latency)


async def guarded(
    runtime: Runtime,
    request: Request,
    kind_of: Callable[[Request], str],
    authenticate: Callable[[Request], None],
    handle: Callable[[str, Request], Awaitable[Response]],
    *,
    unrouted: str,
    render_error: Callable[[ApiError], Response] = error_response,
) -> Response:
    """Serve one request: `kind_of` routes it (or raises 404), then auth, fault, `handle`; counted."""
    await added_latency(runtime)
    kind = unrouted
    try:
        kind = kind_of(request)
        authenticate(request)
        fault = runtime.draw_fault(kind)
        if fault is not None:
            raise fault
        response = await handle(kind, request)
    except ApiError as error:
        response = render_error(error)
    runtime.record_request(kind, response.status_code)
    return response
