"""An async client for the Gemini API's model tuning methods (tunedModels + operations).

Auth goes in headers only: `x-goog-api-key` for an API key, or `Authorization: Bearer`
plus `x-goog-user-project` for OAuth. The key never appears in a URL, so neither httpx's
request log nor this module's log lines can leak it.

Retries follow `RetryPolicy` (429/500/503/504, connect errors and timeouts). Every method
is idempotent except tunedModels.create; create is made safe to retry by always sending a
`tunedModelId` (one is generated from the display name when the caller gives none), so a
retry after a lost answer hits 409 ALREADY_EXISTS instead of making a second model. That
409 is then resolved to the model the earlier attempt created; see `create_tuned_model`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import secrets
import string
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from bot.gemini.errors import GeminiAPIError, GeminiConnectionError
from bot.gemini.types import (
    JSON,
    GenerateContentResponse,
    Operation,
    OperationError,
    OperationMetadata,
    OperationPage,
    TunedModel,
    TunedModelPage,
    TuningExample,
)
from bot.google.resend import Attempts, Service, Sleep, send_with_retries
from bot.google.retry import RetryPolicy
from bot.google.transport import DEFAULT_LIMITS, pooled_transport

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
log = logging.getLogger("bot.gemini")
_GEMINI = Service("gemini", log, api_error=GeminiAPIError, connection_error=GeminiConnectionError)

TUNED_MODEL_ID = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")
_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
_PATCHABLE = {
    "display_name": "displayName",
    "description": "description",
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
}


def new_tuned_model_id(display_name: str | None, *, suffix_length: int = 12) -> str:
    """A fresh `tunedModelId`: the display name's slug plus a random suffix, at most 40 characters."""
    slug = _SLUG_UNSAFE.sub("-", (display_name or "").lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = ("model-" + slug).rstrip("-")
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(suffix_length))
    slug = slug[: 40 - suffix_length - 1].rstrip("-")
    return f"{slug}-{suffix}"


def tuned_model_name(name_or_id: str) -> str:
    """`x` or `tunedModels/x` -> `tunedModels/x`."""
    name = name_or_id.strip().strip("/")
    return name if name.startswith("tunedModels/") else f"tunedModels/{name}"


class GeminiClient:
    """The Gemini API's tuning surface over one `httpx.AsyncClient`.

    >>> async with GeminiClient(api_key) as client:
    ...     op = await client.create_tuned_model(display_name="n", base_model=..., examples=[...])
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        access_token: str | None = None,
        user_project: str | None = None,
        api_version: str = "v1beta",
        operations_version: str = "v1",
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if not api_key and not access_token:
            raise ValueError("GeminiClient needs an API key or an OAuth access token")
        self._api_key = api_key or None
        self._access_token = access_token or None
        self._user_project = user_project
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.operations_version = operations_version
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, transport=transport or pooled_transport(limits)
        )

    def __repr__(self) -> str:  # never the credentials
        auth = "api-key" if self._api_key else "oauth"
        return f"GeminiClient(base_url={self.base_url!r}, auth={auth})"

    async def __aenter__(self) -> GeminiClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # -- tunedModels -------------------------------------------------------------------------

    async def list_tuned_models(
        self,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        filter: str | None = None,
    ) -> TunedModelPage:
        """tunedModels.list: one page (the service defaults to 10 and caps at 1000)."""
        params = {"pageSize": page_size, "pageToken": page_token or None, "filter": filter or None}
        data = await self._send("GET", self._url(self.api_version, "tunedModels"), params=params)
        return TunedModelPage.from_json(data)

    async def iter_tuned_models(
        self, *, page_size: int | None = None, filter: str | None = None
    ) -> AsyncIterator[TunedModel]:
        """Every tuned model, walking `nextPageToken` until the last page."""
        token: str | None = None
        while True:
            page = await self.list_tuned_models(page_size=page_size, page_token=token, filter=filter)
            for model in page.tuned_models:
                yield model
            if not page.next_page_token or page.next_page_token == token:
                return
            token = page.next_page_token

    async def create_tuned_model(
        self,
        *,
        display_name: str,
        base_model: str,
        examples: Sequence[TuningExample],
        epoch_count: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        learning_rate_multiplier: float | None = None,
        description: str | None = None,
        tuned_model_id: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
    ) -> Operation:
        """tunedModels.create -> the long-running tuning operation.

        Retried safely: the request always carries a `tunedModelId`. When a retried attempt
        answers 409 ALREADY_EXISTS, the earlier attempt's answer was lost after the service
        created the model, so the model is fetched (and must have the same display name and
        base model, else the 409 is raised) and its operation is found with operations.list.
        If the service lists no operation for it, a synthetic Operation is returned instead:
        named `{model}/operations/-` (not pollable), `done` unless the model is still
        CREATING, `response` set to the model, `error` set when the model FAILED.
        A 409 on the first attempt (the caller's id really is taken) is raised as is.
        """
        if learning_rate is not None and learning_rate_multiplier is not None:
            raise ValueError("give learning_rate or learning_rate_multiplier, not both")
        model_id = tuned_model_id or new_tuned_model_id(display_name)
        if not TUNED_MODEL_ID.match(model_id):
            raise ValueError(f"tuned_model_id {model_id!r} must match {TUNED_MODEL_ID.pattern}")
        hyper: JSON = {}
        if epoch_count is not None:
            hyper["epochCount"] = epoch_count
        if batch_size is not None:
            hyper["batchSize"] = batch_size
        if learning_rate is not None:
            hyper["learningRate"] = learning_rate
        if learning_rate_multiplier is not None:
            hyper["learningRateMultiplier"] = learning_rate_multiplier
        task: JSON = {"trainingData": {"examples": {"examples": [e.to_json() for e in examples]}}}
        if hyper:
            task["hyperparameters"] = hyper
        body: JSON = {"displayName": display_name, "baseModel": base_model, "tuningTask": task}
        if description:
            body["description"] = description
        for key, value in (("temperature", temperature), ("topP", top_p), ("topK", top_k)):
            if value is not None:
                body[key] = value
        attempts = Attempts()
        try:
            data = await self._send(
                "POST",
                self._url(self.api_version, "tunedModels"),
                params={"tunedModelId": model_id},
                json=body,
                attempts=attempts,
            )
        except GeminiAPIError as exc:
            if exc.is_already_exists and attempts.count > 1:
                log.info("gemini create of tunedModels/%s answered 409 on a retry; resolving", model_id)
                return await self._resolve_existing(f"tunedModels/{model_id}", display_name, base_model, exc)
            raise
        return Operation.from_json(data)

    async def get_tuned_model(self, name: str) -> TunedModel:
        data = await self._send("GET", self._url(self.api_version, tuned_model_name(name)))
        return TunedModel.from_json(data)

    async def update_tuned_model(
        self,
        name: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        update_mask: Sequence[str] | None = None,
    ) -> TunedModel:
        """tunedModels.patch. `update_mask` defaults to the fields given here."""
        values = {
            "display_name": display_name,
            "description": description,
            "temperature": temperature,
            "top_p": top_p,
            "top_k": top_k,
        }
        body = {_PATCHABLE[k]: v for k, v in values.items() if v is not None}
        mask = list(update_mask) if update_mask is not None else list(body)
        if not mask:
            raise ValueError("nothing to update")
        data = await self._send(
            "PATCH",
            self._url(self.api_version, tuned_model_name(name)),
            params={"updateMask": ",".join(mask)},
            json=body,
        )
        return TunedModel.from_json(data)

    patch_tuned_model = update_tuned_model

    async def delete_tuned_model(self, name: str) -> None:
        """tunedModels.delete. A 404 on a retry means the first (lost) attempt deleted it."""
        attempts = Attempts()
        try:
            await self._send("DELETE", self._url(self.api_version, tuned_model_name(name)), attempts=attempts)
        except GeminiAPIError as exc:
            if not (exc.is_not_found and attempts.count > 1):
                raise

    async def generate_content(
        self,
        model_name: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        generation_config: Mapping[str, Any] | None = None,
        system_instruction: Mapping[str, Any] | None = None,
    ) -> GenerateContentResponse:
        """tunedModels.generateContent (`POST /v1beta/{model}:generateContent`).

        `prompt` is a text (sent as one user turn) or a ready `contents` list.
        """
        name = tuned_model_name(model_name) if not model_name.startswith("models/") else model_name
        contents: list[Any] = (
            [{"role": "user", "parts": [{"text": prompt}]}] if isinstance(prompt, str) else list(prompt)
        )
        body: JSON = {"contents": contents}
        if system_instruction:
            body["systemInstruction"] = dict(system_instruction)
        if generation_config:
            body["generationConfig"] = dict(generation_config)
        data = await self._send("POST", self._url(self.api_version, f"{name}:generateContent"), json=body)
        return GenerateContentResponse.from_json(data)

    # -- operations --------------------------------------------------------------------------

    async def get_operation(self, name: str) -> Operation:
        """operations.get on `operations_version` (v1, as the tutorial says)."""
        data = await self._send("GET", self._url(self.operations_version, name.strip("/")))
        return Operation.from_json(data)

    async def list_operations(
        self,
        model_name: str,
        *,
        page_size: int | None = None,
        page_token: str | None = None,
        filter: str | None = None,
    ) -> OperationPage:
        params = {"pageSize": page_size, "pageToken": page_token or None, "filter": filter or None}
        url = self._url(self.operations_version, f"{tuned_model_name(model_name)}/operations")
        return OperationPage.from_json(await self._send("GET", url, params=params))

    # -- plumbing ----------------------------------------------------------------------------

    def _url(self, version: str, path: str) -> str:
        return f"{self.base_url}/{version}/{path}"

    def _headers(self) -> dict[str, str]:
        if self._api_key:
            return {"x-goog-api-key": self._api_key}
        headers = {"authorization": f"Bearer {self._access_token}"}
        if self._user_project:
            headers["x-goog-user-project"] = self._user_project
        return headers

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        attempts: Attempts | None = None,
    ) -> Any:
        query = {k: v for k, v in (params or {}).items() if v is not None}

        def send() -> Awaitable[httpx.Response]:
            return self._http.request(method, url, params=query or None, json=json, headers=self._headers())

        return await send_with_retries(
            send,
            service=_GEMINI,
            method=method,
            path=url.removeprefix(self.base_url),
            policy=self.retry,
            sleep=self._sleep,
            rand=self._rand,
            attempts=attempts,
        )

    async def _resolve_existing(
        self, model_name: str, display_name: str, base_model: str, conflict: GeminiAPIError
    ) -> Operation:
        model = await self.get_tuned_model(model_name)
        if (model.display_name not in (None, display_name)) or (model.base_model not in (None, base_model)):
            raise conflict
        return await self._operation_of(model_name, model)

    async def find_creation(self, model_name: str) -> Operation:
        """The tuning operation of an existing tuned model (as `create_tuned_model` returned
        it), e.g. after the process died before it could record the create's answer.
        Raises the 404 GeminiAPIError when there is no such model."""
        return await self._operation_of(model_name, await self.get_tuned_model(model_name))

    async def _operation_of(self, model_name: str, model: TunedModel) -> Operation:
        try:
            page = await self.list_operations(model_name)
        except GeminiAPIError as exc:
            if exc.code not in (404, 501):
                raise
            page = OperationPage([])
        ours = [op for op in page.operations if op.tuned_model_name == model_name]
        if ours:
            return ours[-1]
        log.info("gemini: no operation listed for %s; returning a synthetic one", model_name)
        failed = model.state == "FAILED"
        return Operation(
            name=f"{model_name}/operations/-",
            done=model.state != "CREATING",
            metadata=OperationMetadata(tuned_model=model_name),
            error=OperationError(code=13, message=f"tuning of {model_name} failed") if failed else None,
            response=model if not failed else None,
        )
