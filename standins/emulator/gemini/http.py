"""The Gemini API surface over HTTP: Google's paths and JSON for tunedModels, operations, models.

Served paths (`{v}` is `v1` or `v1beta`):

    GET    /v1beta/tunedModels                          tunedModels.list
    POST   /v1beta/tunedModels[?tunedModelId=ID]        tunedModels.create
    GET    /v1beta/tunedModels/{id}                     tunedModels.get
    PATCH  /v1beta/tunedModels/{id}?updateMask=...      tunedModels.patch
    DELETE /v1beta/tunedModels/{id}                     tunedModels.delete
    POST   /v1beta/tunedModels/{id}:generateContent     tunedModels.generateContent
    GET    /{v}/tunedModels/{id}/operations             operations.list
    GET    /{v}/tunedModels/{id}/operations/{op}        operations.get
    GET    /{v}/models, /{v}/models/{id}                models.list, models.get
    POST   /{v}/models/{id}:generateContent             models.generateContent (a base model)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from standins.emulator.core import protojson as payload
from standins.emulator.core.errors import ApiError
from standins.emulator.core.http import added_latency, error_response
from standins.emulator.core.runtime import Runtime
from standins.emulator.gemini import schema
from standins.emulator.gemini.service import GeminiService

VERSIONS = ("v1", "v1beta")
LIST_PARAMS = {"page_size": "int32", "page_token": "string", "filter": "string"}

Handler = Callable[[Request], Any]


@dataclass(frozen=True)
class Call:
    """A routed API request: its method kind (`operations.get`) and the ids in its path."""

    kind: str
    model_id: str | None = None
    operation_id: str | None = None

    @property
    def model_name(self) -> str | None:
        return f"tunedModels/{self.model_id}" if self.model_id else None

    @property
    def operation_name(self) -> str | None:
        if self.model_id and self.operation_id:
            return f"tunedModels/{self.model_id}/operations/{self.operation_id}"
        return None


def route(version: str, method: str, path: str) -> Call:
    """Map a request to the API method it calls; unknown -> 404 as Google answers."""
    parts = path.strip("/").split("/") if path.strip("/") else []
    not_found = ApiError(404, f"Method not found: {method} /{version}/{path}.", status="NOT_FOUND")
    if version not in VERSIONS or not parts:
        raise not_found
    head, rest = parts[0], parts[1:]
    if head == "models" and method == "GET":
        if not rest:
            return Call("models.list")
        if len(rest) == 1:
            return Call("models.get", model_id=rest[0])
    if head == "models" and method == "POST" and len(rest) == 1:
        base_id, _, verb = rest[0].partition(":")
        if verb == "generateContent" and base_id:
            return Call("models.generateContent", model_id=base_id)
        raise not_found
    if head != "tunedModels":
        raise not_found
    beta = version == "v1beta"
    if not rest and beta:
        if method == "GET":
            return Call("tunedModels.list")
        if method == "POST":
            return Call("tunedModels.create")
    if len(rest) == 1 and beta:
        model_id, _, verb = rest[0].partition(":")
        if verb:
            if verb == "generateContent" and method == "POST":
                return Call("tunedModels.generateContent", model_id=model_id)
            raise not_found
        kinds = {"GET": "tunedModels.get", "PATCH": "tunedModels.patch", "DELETE": "tunedModels.delete"}
        if method in kinds:
            return Call(kinds[method], model_id=model_id)
    if len(rest) >= 2 and rest[1] == "operations" and method == "GET":
        if len(rest) == 2:
            return Call("operations.list", model_id=rest[0])
        if len(rest) == 3:
            return Call("operations.get", model_id=rest[0], operation_id=rest[2])
    raise not_found


def authenticate(request: Request, service: GeminiService) -> None:
    """An API key (header or `?key=`) or a Bearer token; any non-empty one unless keys are configured."""
    key = request.headers.get("x-goog-api-key")
    if key is None:
        key = request.query_params.get("key")
    if key is not None and key.strip():
        allowed = service.config.api_keys
        if allowed is not None and key not in allowed:
            raise ApiError(
                400,
                "API key not valid. Please pass a valid API key.",
                status="INVALID_ARGUMENT",
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                        "metadata": {"service": "generativelanguage.googleapis.com"},
                    }
                ],
            )
        return
    authorization = request.headers.get("authorization")
    if authorization is None and request.query_params.get("access_token"):
        authorization = "Bearer " + request.query_params["access_token"]
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return
        raise ApiError(
            401,
            status="UNAUTHENTICATED",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )
    raise ApiError(
        403,
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
        status="PERMISSION_DENIED",
    )


async def _body(request: Request) -> Any:
    return payload.load_json(await request.body())


async def dispatch(call: Call, request: Request, emulator: GeminiService) -> dict[str, Any]:
    query = request.query_params
    kind = call.kind
    if kind == "tunedModels.list":
        params = payload.parse_query(query, LIST_PARAMS)
        return emulator.list_tuned_models(
            params.get("page_size"), params.get("page_token"), params.get("filter")
        )
    if kind == "tunedModels.create":
        params = payload.parse_query(query, {"tuned_model_id": "string"})
        body = payload.parse_message(await _body(request), schema.TUNED_MODEL, "tuned_model")
        return emulator.create_tuned_model(body, params.get("tuned_model_id"))
    assert call.model_id is not None
    if kind == "tunedModels.patch":
        params = payload.parse_query(query, {"update_mask": "string"})
        body = payload.parse_message(await _body(request), schema.TUNED_MODEL, "tuned_model")
        return emulator.patch_tuned_model(call.model_id, body, params.get("update_mask"))
    if kind == "tunedModels.generateContent":
        payload.parse_query(query, {})
        body = payload.parse_message(await _body(request), schema.GENERATE_CONTENT_REQUEST, "")
        return emulator.generate_content(call.model_id, body)
    if kind == "models.generateContent":
        payload.parse_query(query, {})
        body = payload.parse_message(await _body(request), schema.GENERATE_CONTENT_REQUEST, "")
        return emulator.generate_base_content(call.model_id, body)
    if kind == "operations.list":
        params = payload.parse_query(query, LIST_PARAMS)
        return emulator.list_operations(call.model_id, params.get("page_size"), params.get("page_token"))
    if kind == "models.get":
        payload.parse_query(query, {})
        return emulator.get_model(call.model_id)
    payload.parse_query(query, {})
    if kind == "tunedModels.get":
        return emulator.get_tuned_model(call.model_id)
    if kind == "tunedModels.delete":
        return emulator.delete_tuned_model(call.model_id)
    if kind == "operations.get":
        assert call.operation_id is not None
        return emulator.get_operation(call.model_id, call.operation_id)
    raise ApiError(501, f"{kind} is not implemented by the emulator.", status="NOT_IMPLEMENTED")


def make_handler(runtime: Runtime, service: GeminiService) -> Handler:
    """The Starlette endpoint for `/{version}/{path}`."""

    async def api(request: Request) -> Response:
        version = request.path_params["version"]
        path = request.path_params["path"]
        call = Call("unknown")
        result: dict[str, Any] = {}
        await added_latency(runtime)
        try:
            call = route(version, request.method, path)
            authenticate(request, service)
            fault = runtime.draw_fault(call.kind)
            if fault is not None:
                raise fault
            if call.kind == "models.list":
                params = payload.parse_query(
                    request.query_params, {"page_size": "int32", "page_token": "string"}
                )
                result = service.list_models(params.get("page_size"), params.get("page_token"))
            else:
                result = await dispatch(call, request, service)
            response: Response = JSONResponse(result)
        except ApiError as error:
            response = error_response(error)
        model = call.model_name if not call.kind.startswith("models.") else None
        if call.kind == "models.generateContent":
            model = f"models/{call.model_id}"
        if call.kind == "tunedModels.create" and response.status_code == 200:
            model = result.get("metadata", {}).get("tunedModel")
        runtime.record_request(call.kind, response.status_code, model=model, operation=call.operation_name)
        return response

    return api


def routes(runtime: Runtime, service: GeminiService) -> list[BaseRoute]:
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return [Route("/{version}/{path:path}", make_handler(runtime, service), methods=methods)]
