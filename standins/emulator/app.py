"""The emulator's HTTP app: every surface's routes plus the admin endpoints.

    /v1beta/..., /v1/...                Gemini API            standins.emulator.gemini.http
    /v1/projects/..., /v1beta1/projects/...   Vertex AI       standins.emulator.vertex.http
    /upload/storage/v1/..., /storage/v1/...   Cloud Storage   standins.emulator.storage.http

Admin (not part of Google's API): `/_emulator/faults` (GET, POST), `/_emulator/advance`
(POST `{"seconds": N}`), `/_emulator/finish` (POST), `/_emulator/reset` (POST),
`/_emulator/stats` (GET; DELETE clears the counts), `/_emulator/health` (GET).
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from standins.emulator.config import EmulatorConfig
from standins.emulator.core.clock import rfc3339
from standins.emulator.gemini import http as gemini_http
from standins.emulator.service import Emulator
from standins.emulator.storage import http as storage_http
from standins.emulator.vertex import http as vertex_http


def admin_routes(service: Emulator) -> list[BaseRoute]:
    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = json.loads(await request.body() or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object")
                service.update_faults(changes)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(service.faults.to_json())

    async def advance(request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            seconds = float(data.get("seconds", 0))
            now = service.advance(seconds)
        except (ValueError, TypeError, AttributeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"now": rfc3339(now), "now_seconds": now})

    async def finish(request: Request) -> Response:
        now = service.finish_all()
        return JSONResponse({"now": rfc3339(now), "now_seconds": now})

    async def reset(request: Request) -> Response:
        service.reset()
        return JSONResponse({})

    async def stats(request: Request) -> Response:
        if request.method == "DELETE":
            service.reset_stats()
        return JSONResponse(service.stats())

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "emulator": "gemini-tuning", "models": len(service.model_ids())})

    return [
        Route("/_emulator/faults", faults, methods=["GET", "POST"]),
        Route("/_emulator/advance", advance, methods=["POST"]),
        Route("/_emulator/finish", finish, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/stats", stats, methods=["GET", "DELETE"]),
        Route("/_emulator/health", health, methods=["GET"]),
    ]


def create_app(config: EmulatorConfig | None = None, *, emulator: Emulator | None = None) -> Starlette:
    """The emulator as an ASGI app; `app.state.emulator` is its `Emulator`."""
    service = emulator or Emulator(config or EmulatorConfig())
    routes: list[BaseRoute] = [
        *vertex_http.routes(service.runtime, service.vertex),
        *storage_http.routes(service.runtime, service.storage),
        *admin_routes(service),
        *gemini_http.routes(service.runtime, service.gemini),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = service
    return app
