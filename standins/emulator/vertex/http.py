"""The Vertex AI surface over HTTP: `/{v1|v1beta1}/projects/{p}/locations/{l}/...`.

Served on both API versions (any non-empty `Authorization: Bearer` token is accepted; `@type`
URLs in answers name the version asked for):

    POST   tuningJobs                 tuningJobs.create
    GET    tuningJobs                 tuningJobs.list (?filter=labels.K:* AND labels.K="V", paging)
    GET    tuningJobs/{id}            tuningJobs.get
    POST   tuningJobs/{id}:cancel     tuningJobs.cancel
    GET    endpoints/{id}             endpoints.get
    DELETE endpoints/{id}             endpoints.delete (operation)
    POST   endpoints/{id}:undeployModel                (operation)
    POST   endpoints/{id}:generateContent
    GET    models                     models.list (?filter=labels.K:* AND display_name="N" …, paging)
    GET    models/{id}[@{version}]    models.get
    DELETE models/{id}                models.delete (operation)
    POST   publishers/google/models/{model}:generateContent   (a base model answers)
    GET    operations/{id}            operations.get

Request kinds in the stats and in scripted faults are `vertex.<kind>`, e.g. `vertex.tuningJobs.get`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from standins.emulator.core import protojson
from standins.emulator.core.errors import ApiError, invalid_argument
from standins.emulator.core.http import guarded
from standins.emulator.core.runtime import Runtime
from standins.emulator.vertex import endpoints, models, operations, publishers, tensorboard, tuning
from standins.emulator.vertex.routing import VERSIONS, Handler, Routes, VertexCall, split_path
from standins.emulator.vertex.service import VertexService

MODULES: tuple[ModuleType, ...] = (tuning, endpoints, models, operations, tensorboard, publishers)
MULTI_REGIONS = ("us", "eu")


def all_routes(modules: tuple[ModuleType, ...] = MODULES) -> Routes:
    routes: Routes = {}
    for module in modules:
        routes.update(module.ROUTES)
    return routes


ROUTES = all_routes()


def route(version: str, method: str, path: str) -> tuple[str, Handler, str, tuple[str, ...], str | None]:
    """-> (kind, handler, parent, ids, verb); unknown paths get Google's 404."""
    missing = ApiError(404, f"Method not found: {method} /{version}/{path}.", status="NOT_FOUND")
    split = split_path(path)
    if split is None:
        raise missing
    parent, pattern, ids, verb = split
    found = ROUTES.get((method, pattern))
    if found is None:
        raise missing
    kind, handler = found
    return "vertex." + kind, handler, parent, ids, verb


def authenticate(request: Request) -> None:
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
            status="UNAUTHENTICATED",
        )


async def _json_body(request: Request) -> dict[str, Any]:
    body = protojson.load_json(await request.body())
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received. Expected an object.")
    return body


def make_handler(runtime: Runtime, svc: VertexService) -> Callable[[Request], Any]:
    """The Starlette endpoint for `/{version}/projects/{path}`."""

    def path_of(request: Request) -> tuple[str, str]:
        parts = request.url.path.lstrip("/").split("/")
        version = parts[2] if parts[0] == "rep" else parts[0]
        return version, "projects/" + request.path_params["path"]

    def kind_of(request: Request) -> str:
        version, path = path_of(request)
        return route(version, request.method, path)[0]

    async def handle(kind: str, request: Request) -> Response:
        version, path = path_of(request)
        _kind, handler, parent, ids, verb = route(version, request.method, path)
        check_host(request.path_params.get("region"), parent)
        body = await _json_body(request) if request.method in ("POST", "PATCH", "PUT") else {}
        call = VertexCall(version, request.method, parent, ids, verb, request.query_params, body)
        return JSONResponse(handler(svc, call))

    async def api(request: Request) -> Response:
        return await guarded(runtime, request, kind_of, authenticate, handle, unrouted="vertex.unknown")

    return api


def check_host(region: str | None, parent: str) -> None:
    """Resources in the `us`/`eu` multi-region (Gemini 3.x tuned models) are served only by
    `aiplatform.{us|eu}.rep.googleapis.com`, emulated under `/rep/{us|eu}`; that host serves
    nothing else."""
    location = parent.split("/")[3]
    if region is None and location in MULTI_REGIONS:
        raise ApiError(
            400,
            f"Location {location} is served only by the multi-region endpoint "
            f"aiplatform.{location}.rep.googleapis.com, not by a regional one.",
            status="FAILED_PRECONDITION",
        )
    if region is not None and location != region:
        raise ApiError(
            400,
            f"The multi-region endpoint aiplatform.{region}.rep.googleapis.com serves location "
            f"{region} only, not {location}.",
            status="FAILED_PRECONDITION",
        )


def routes(runtime: Runtime, svc: VertexService) -> list[BaseRoute]:
    api = make_handler(runtime, svc)
    methods = ["GET", "POST", "PATCH", "DELETE"]
    regional: list[BaseRoute] = [
        Route(f"/{version}/projects/{{path:path}}", api, methods=methods) for version in VERSIONS
    ]
    multi = [
        Route(f"/rep/{{region}}/{version}/projects/{{path:path}}", api, methods=methods)
        for version in VERSIONS
    ]
    return regional + multi
