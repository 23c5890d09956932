"""Health checks for containers: the `/healthz` endpoint in Socket Mode, and the probe
`tunebot health` that the Docker HEALTHCHECK runs in either mode.

HTTP mode serves `/healthz` beside `/slack/events` (bot/runtime.py). Socket Mode has no
HTTP listener of its own, so a small one answers `/healthz` on PORT there too: 200 while
the Socket Mode connection is up, 503 while it is down.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HEALTH_PATH = "/healthz"


def socket_mode_health_app(connected: Callable[[], Awaitable[bool]], backend: str) -> Starlette:
    async def health(_request: Request) -> Response:
        up = await connected()
        body = {"ok": up, "mode": "socket", "backend": backend}
        return JSONResponse(body, status_code=200 if up else 503)

    return Starlette(routes=[Route(HEALTH_PATH, health, methods=["GET"])])


def probe(port: int, host: str = "127.0.0.1", timeout: float = 2.5) -> tuple[bool, str]:
    """Ask the bot's `/healthz`; (healthy, what to print)."""
    url = f"http://{host}:{port}{HEALTH_PATH}"
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        return False, f"unhealthy: no answer on {url} ({type(exc).__name__})"
    try:
        ok = response.status_code == 200 and bool(response.json().get("ok"))
    except ValueError:
        ok = False
    return ok, f"{'healthy' if ok else 'unhealthy'}: {url} answered {response.status_code}"
