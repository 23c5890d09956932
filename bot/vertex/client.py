"""An async client for the Vertex AI tuning surface and the Cloud Storage upload it needs.

    tuningJobs   POST/GET  {api}/v1/projects/{p}/locations/{l}/tuningJobs[/{id}][:cancel]
    endpoints    GET/DELETE {api}/v1/{endpoint}, POST {endpoint}:undeployModel, {endpoint}:generateContent
    models       DELETE {api}/v1/{model}
    operations   GET {api}/v1/{operation}
    storage      POST {gcs}/upload/storage/v1/b/{bucket}/o?uploadType=media&name=...
                 GET  {gcs}/storage/v1/b/{bucket}/o/{object}[?alt=media]  (metadata, streamed bytes)

Errors carry Google's own message (`VertexAPIError`, the same body format as the Gemini
API). Retries follow `bot.google.RetryPolicy`, except tuningJobs.create, which Vertex
cannot de-duplicate: it is retried only on 429 and connect errors (never sent twice).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from bot.google.resend import Service, Sleep, always, send_with_retries
from bot.google.retry import RetryPolicy
from bot.google.transport import pooled_transport
from bot.vertex.auth import AuthError, TokenSource
from bot.vertex.errors import VertexAPIError, VertexConnectionError
from bot.vertex.objects import DOWNLOAD_CHUNK, CloudObject, ObjectInfo
from bot.vertex.types import SeriesPoint, TimeSeries, TuningJob, TuningJobPage, int_or_none, points_from

log = logging.getLogger("bot.vertex")
DEFAULT_STORAGE_BASE = "https://storage.googleapis.com"


def default_api_base(location: str) -> str:
    return f"https://{location}-aiplatform.googleapis.com"


# Gemini 3.x tuned models live in the `us` / `eu` multi-region and are served only there.
DEFAULT_MULTI_REGION_API_BASE = "https://aiplatform.{region}.rep.googleapis.com"
MULTI_REGIONS = ("us", "eu")


def resource_location(name: str) -> str | None:
    """`projects/p/locations/us/endpoints/1` -> "us"."""
    parts = name.split("/")
    for index, part in enumerate(parts[:-1]):
        if part == "locations":
            return parts[index + 1]
    return None


REQUEST_LABEL = "tunebot-request"  # Vertex label keys: lowercase letters, digits, - and _


_VERTEX = Service("vertex", log, api_error=VertexAPIError, connection_error=VertexConnectionError)


_API_PATH = re.compile(r"^.*?/v1(?:beta1)?/")


def _never_left(error: httpx.TransportError) -> bool:
    """A refused connection: the request was not sent, so sending it again is safe."""
    return isinstance(error, httpx.ConnectError)


class VertexClient:
    def __init__(
        self,
        *,
        project: str,
        location: str,
        tokens: TokenSource,
        api_base: str | None = None,
        multi_region_api_base: str | None = None,
        storage_base: str = DEFAULT_STORAGE_BASE,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout = 60.0,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        operation_wait: float = 2.0,
        operation_attempts: int = 60,
    ) -> None:
        self.project = project
        self.location = location
        self.api_base = (api_base or default_api_base(location)).rstrip("/")
        self.multi_region_api_base = (multi_region_api_base or DEFAULT_MULTI_REGION_API_BASE).rstrip("/")
        self.storage_base = storage_base.rstrip("/")
        self._tokens = tokens
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rand = rand
        self._operation_wait = operation_wait
        self._operation_attempts = operation_attempts
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, transport=transport or pooled_transport()
        )

    def __repr__(self) -> str:
        return f"VertexClient(project={self.project!r}, location={self.location!r}, api={self.api_base!r})"

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    def base_for(self, name: str) -> str:
        """The host that serves resource `name`: the `us`/`eu` multi-region host for resources
        in those locations (Gemini 3.x tuned models), the regional one otherwise."""
        location = resource_location(name)
        if location in MULTI_REGIONS:
            return self.multi_region_api_base.replace("{region}", location or "")
        return self.api_base

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # ---- Cloud Storage -------------------------------------------------------------------

    async def upload(self, bucket: str, object_name: str, data: bytes, content_type: str) -> str:
        """Upload one object (simple media upload); returns its `gs://` URI."""
        url = f"{self.storage_base}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
        await self._send(
            "POST",
            url,
            params={"uploadType": "media", "name": object_name},
            content=data,
            content_type=content_type,
        )
        return f"gs://{bucket}/{object_name}"

    async def delete_object(self, uri: str) -> None:
        """Delete a `gs://bucket/name` object."""
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        url = f"{self.storage_base}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        await self._send("DELETE", url)

    def _object_url(self, target: CloudObject) -> str:
        bucket, name = quote(target.bucket, safe=""), quote(target.name, safe="")
        return f"{self.storage_base}/storage/v1/b/{bucket}/o/{name}"

    async def object_info(self, target: CloudObject) -> ObjectInfo:
        """An object's metadata (size, generation, MD5) without its bytes."""
        return ObjectInfo.from_json(await self._send("GET", self._object_url(target)))

    async def stream_object(
        self, target: CloudObject, *, generation: str | None = None, chunk_size: int = DOWNLOAD_CHUNK
    ) -> AsyncIterator[bytes]:
        """The object's bytes (of `generation`, when given), `chunk_size` at a time, as they
        arrive: nothing is buffered beyond one chunk. An error answer raises VertexAPIError
        (its opening is retried as any read is); a connection lost midway,
        VertexConnectionError (the caller starts again: a stream cannot resume silently)."""
        params: dict[str, str] = {"alt": "media"}
        if generation:
            params["generation"] = generation
        url = self._object_url(target)
        response = await self._open_stream(url, params)
        try:
            async for chunk in response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.TransportError as exc:
            raise VertexConnectionError(
                f"GET {target.uri}: the download was cut off: {type(exc).__name__}: {exc}".rstrip(": "),
                method="GET",
                path=target.uri,
            ) from exc
        finally:
            await response.aclose()

    async def _open_stream(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        """A successful streamed GET (its body unread), retried as `self.retry` says."""
        attempt = 0
        while True:
            attempt += 1
            error: VertexAPIError | httpx.TransportError
            try:
                headers = await self._headers(None)
                request = self._http.build_request("GET", url, params=dict(params), headers=headers)
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                error = exc
            else:
                if response.is_success:
                    return response
                await response.aread()
                await response.aclose()
                error = VertexAPIError.from_response(response)
            if not self.retry.should_retry(attempt, error):
                if isinstance(error, VertexAPIError):
                    raise error
                raise VertexConnectionError(
                    f"GET {_API_PATH.sub('', url)}: {type(error).__name__}: {error}".rstrip(": "),
                    method="GET",
                    path=_API_PATH.sub("", url),
                ) from error
            retry_after = error.retry_after if isinstance(error, VertexAPIError) else None
            await self._sleep(self.retry.delay(attempt, retry_after, self._rand))

    # ---- tuning jobs ---------------------------------------------------------------------

    async def create_tuning_job(
        self,
        *,
        base_model: str | None,
        training_uri: str,
        display_name: str,
        validation_uri: str | None = None,
        export_last_checkpoint_only: bool = False,
        epoch_count: int | None = None,
        learning_rate_multiplier: float | None = None,
        adapter_size: str | None = None,
        description: str | None = None,
        request_label: str | None = None,
        pre_tuned_model: str | None = None,
        pre_tuned_checkpoint: str | None = None,
    ) -> TuningJob:
        """Create a tuning job: from `base_model`, or (continued tuning) from the Model
        Registry model `pre_tuned_model` and optionally its checkpoint `pre_tuned_checkpoint`,
        sent as `preTunedModel` {tunedModelName, checkpointId} in `baseModel`'s place (the two
        are one oneof, `source_model`, of the TuningJob resource; the job's base model is the
        pre-tuned model's). With `request_label` (tunebot's own id for the request) the
        job is labelled, and a create whose answer was lost (a timeout after sending) is
        recovered by looking the label up instead of failing or creating a second job."""
        hyper: dict[str, Any] = {}
        if epoch_count is not None:
            hyper["epochCount"] = str(epoch_count)
        if learning_rate_multiplier is not None:
            hyper["learningRateMultiplier"] = learning_rate_multiplier
        if adapter_size:
            hyper["adapterSize"] = adapter_size
        spec: dict[str, Any] = {"trainingDatasetUri": training_uri}
        if validation_uri:
            spec["validationDatasetUri"] = validation_uri
        if export_last_checkpoint_only:
            spec["exportLastCheckpointOnly"] = True
        if hyper:
            spec["hyperParameters"] = hyper
        body: dict[str, Any] = {"supervisedTuningSpec": spec, "tunedModelDisplayName": display_name}
        if pre_tuned_model:
            source: dict[str, Any] = {"tunedModelName": pre_tuned_model}
            if pre_tuned_checkpoint:
                source["checkpointId"] = pre_tuned_checkpoint
            body["preTunedModel"] = source
        elif base_model:
            body["baseModel"] = base_model
        if description:
            body["description"] = description
        if request_label:
            body["labels"] = {REQUEST_LABEL: request_label}
        create_retry = RetryPolicy(
            max_attempts=self.retry.max_attempts,
            base_delay=self.retry.base_delay,
            max_delay=self.retry.max_delay,
            max_retry_after=self.retry.max_retry_after,
            retry_statuses=frozenset({429}),
        )
        try:
            data = await self._send(
                "POST",
                f"{self.api_base}/v1/{self.parent}/tuningJobs",
                json=body,
                retry=create_retry,
                create=True,
            )
        except VertexConnectionError:
            if not request_label:
                raise
            found = await self.find_tuning_job(request_label)
            if found is None:
                raise
            log.warning("vertex: a create answer was lost; found the job it made by its label")
            return found
        return TuningJob.from_json(data)

    async def find_tuning_job(self, request_label: str) -> TuningJob | None:
        """The tuning job created for `request_label`, if there is one."""
        data = await self._send(
            "GET",
            f"{self.api_base}/v1/{self.parent}/tuningJobs",
            params={"filter": f'labels.{REQUEST_LABEL}="{request_label}"', "pageSize": 10},
        )
        jobs = [TuningJob.from_json(j) for j in data.get("tuningJobs") or [] if isinstance(j, dict)]
        return jobs[0] if jobs else None

    async def get_tuning_job(self, name: str) -> TuningJob:
        """On v1beta1, which adds the sub-state (`tuningJobState`) and `tuningJobMetadata`."""
        return TuningJob.from_json(await self._send("GET", f"{self.base_for(name)}/v1beta1/{name}"))

    async def list_tuning_jobs(self, *, page_size: int, page_token: str | None = None) -> TuningJobPage:
        data = await self._send(
            "GET",
            f"{self.api_base}/v1/{self.parent}/tuningJobs",
            params={"pageSize": page_size, "pageToken": page_token},
        )
        jobs = [TuningJob.from_json(j) for j in data.get("tuningJobs") or [] if isinstance(j, dict)]
        return TuningJobPage(jobs, data.get("nextPageToken") or None)

    async def cancel_tuning_job(self, name: str) -> None:
        await self._send("POST", f"{self.api_base}/v1/{name}:cancel", json={})

    # ---- metrics: the experiment's backing TensorBoard ------------------------------------

    async def get_context(self, name: str) -> dict[str, Any]:
        """A Vertex ML Metadata Context (a tuning job's `experiment`)."""
        data: dict[str, Any] = await self._send("GET", f"{self.base_for(name)}/v1/{name}")
        return data

    async def list_tensorboard_runs(self, experiment: str) -> list[str]:
        """Run names of a TensorBoard experiment (`…/tensorboards/TB/experiments/EXP`)."""
        data = await self._send(
            "GET", f"{self.base_for(experiment)}/v1/{experiment}/runs", params={"pageSize": 1000}
        )
        return [str(r["name"]) for r in data.get("tensorboardRuns") or [] if isinstance(r, dict)]

    async def list_time_series(self, run: str) -> list[TimeSeries]:
        data = await self._send("GET", f"{self.base_for(run)}/v1/{run}/timeSeries", params={"pageSize": 1000})
        return [
            TimeSeries(
                name=str(item.get("name", "")),
                display_name=str(item.get("displayName", "")),
                max_step=int_or_none((item.get("metadata") or {}).get("maxStep")),
            )
            for item in data.get("tensorboardTimeSeries") or []
            if isinstance(item, dict)
        ]

    async def batch_read(self, tensorboard: str, series: list[str]) -> dict[str, list[SeriesPoint]]:
        """Scalar points of up to 20 series (at most 1,000 each, sampled: sorted here by step),
        keyed by series id (the last part of its name)."""
        data = await self._send(
            "GET",
            f"{self.base_for(tensorboard)}/v1/{tensorboard}:batchRead",
            params=[("timeSeries", name) for name in series[:20]],
        )
        return {
            str(item.get("tensorboardTimeSeriesId", "")): points_from(item.get("values") or [])
            for item in data.get("timeSeriesData") or []
            if isinstance(item, dict)
        }

    async def read_time_series(self, series: str, *, max_points: int = 10_000) -> list[SeriesPoint]:
        data = await self._send(
            "GET", f"{self.base_for(series)}/v1/{series}:read", params={"maxDataPoints": max_points}
        )
        return points_from((data.get("timeSeriesData") or {}).get("values") or [])

    async def latest_point(self, series: str) -> SeriesPoint | None:
        """The point with the highest step (one point downloaded, not the series)."""
        data = await self._send(
            "POST",
            f"{self.base_for(series)}/v1/{series}:exportTensorboardTimeSeries",
            json={"orderBy": "step desc", "pageSize": 1},
        )
        points = points_from(data.get("timeSeriesDataPoints") or [])
        return points[-1] if points else None

    # ---- endpoints, models, operations ---------------------------------------------------

    async def generate_content(
        self,
        endpoint: str,
        prompt: str | Sequence[Mapping[str, Any]],
        *,
        system_instruction: Mapping[str, Any] | None = None,
        generation_config: Mapping[str, Any] | None = None,
    ) -> str:
        """`prompt` is a text (sent as one user turn) or a ready `contents` list."""
        contents: list[Any] = (
            [{"role": "user", "parts": [{"text": prompt}]}] if isinstance(prompt, str) else list(prompt)
        )
        body: dict[str, Any] = {"contents": contents}
        if system_instruction:
            body["systemInstruction"] = dict(system_instruction)
        if generation_config:
            body["generationConfig"] = dict(generation_config)
        data = await self._send("POST", f"{self.base_for(endpoint)}/v1/{endpoint}:generateContent", json=body)
        texts: list[str] = []
        for candidate in (data.get("candidates") or [])[:1]:
            for part in (candidate.get("content") or {}).get("parts") or []:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        return "".join(texts)

    async def get_endpoint(self, endpoint: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._send("GET", f"{self.base_for(endpoint)}/v1/{endpoint}")
        return data

    async def undeploy_model(self, endpoint: str, deployed_model_id: str) -> None:
        op = await self._send(
            "POST",
            f"{self.base_for(endpoint)}/v1/{endpoint}:undeployModel",
            json={"deployedModelId": deployed_model_id},
        )
        await self.wait_operation(op)

    async def delete_endpoint(self, endpoint: str) -> None:
        await self.wait_operation(await self._send("DELETE", f"{self.base_for(endpoint)}/v1/{endpoint}"))

    async def delete_model(self, model: str) -> None:
        name = model.split("@", 1)[0]  # a version-qualified name deletes the whole model
        await self.wait_operation(await self._send("DELETE", f"{self.base_for(name)}/v1/{name}"))

    async def wait_operation(self, operation: Mapping[str, Any]) -> None:
        """Wait until a long-running operation is done; raise its error if it failed."""
        current: Mapping[str, Any] = operation
        for _ in range(self._operation_attempts):
            if current.get("done") or not current.get("name"):
                error = current.get("error")
                if isinstance(error, dict):
                    raise VertexAPIError(
                        400, str(error.get("message") or "the operation failed"), status="FAILED_PRECONDITION"
                    )
                return
            await self._sleep(self._operation_wait)
            current = await self._send("GET", f"{self.base_for(current['name'])}/v1/{current['name']}")
        raise VertexConnectionError(f"operation {operation.get('name')} did not finish in time")

    # ---- transport -----------------------------------------------------------------------

    async def _headers(self, content_type: str | None) -> dict[str, str]:
        try:
            token = await self._tokens.token()
        except AuthError as exc:
            raise VertexConnectionError(str(exc)) from exc
        headers = {"authorization": f"Bearer {token}", "x-goog-user-project": self.project}
        if content_type:
            headers["content-type"] = content_type
        return headers

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        retry: RetryPolicy | None = None,
        create: bool = False,
    ) -> Any:
        """`create`: the call makes something; it is sent again only if it never left."""
        pairs = params.items() if isinstance(params, Mapping) else (params or [])
        query = [(k, v) for k, v in pairs if v is not None]

        async def send() -> httpx.Response:
            headers = await self._headers(content_type)
            return await self._http.request(
                method, url, params=query or None, json=json, content=content, headers=headers
            )

        return await send_with_retries(
            send,
            service=_VERTEX,
            method=method,
            path=_API_PATH.sub("", url),
            policy=retry or self.retry,
            sleep=self._sleep,
            rand=self._rand,
            may_resend=_never_left if create else always,
        )
