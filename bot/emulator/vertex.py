"""The emulator's Vertex AI surface: supervised tuningJobs, endpoints, models, operations and a
Cloud Storage bucket for the training JSONL. Nothing is trained; a job is a timetable on the
emulator's clock and its "tuned model" answers with its most similar training example.

Served paths (any non-empty `Authorization: Bearer` token is accepted):

    POST   /upload/storage/v1/b/{bucket}/o?uploadType=media&name=N    objects.insert (media)
    POST   /v1/projects/{p}/locations/{l}/tuningJobs                  tuningJobs.create
    GET    /v1/projects/{p}/locations/{l}/tuningJobs                  tuningJobs.list
    GET    /v1/projects/{p}/locations/{l}/tuningJobs/{id}             tuningJobs.get
    POST   /v1/projects/{p}/locations/{l}/tuningJobs/{id}:cancel      tuningJobs.cancel
    GET    /v1/projects/{p}/locations/{l}/endpoints/{id}              endpoints.get
    DELETE /v1/projects/{p}/locations/{l}/endpoints/{id}              endpoints.delete
    POST   /v1/projects/{p}/locations/{l}/endpoints/{id}:undeployModel
    POST   /v1/projects/{p}/locations/{l}/endpoints/{id}:generateContent
    DELETE /v1/projects/{p}/locations/{l}/models/{id}                 models.delete
    GET    /v1/projects/{p}/locations/{l}/operations/{id}             operations.get

A job is JOB_STATE_PENDING for one step, JOB_STATE_RUNNING for `tuningStepCount` steps, then
JOB_STATE_SUCCEEDED with a tuned model deployed to an endpoint (or JOB_STATE_FAILED when its
display name is in the fault config's `fail_models`). Buckets named in
`EmulatorConfig.vertex_denied_buckets` answer uploads with 403.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.emulator import generation
from bot.emulator.errors import ApiError, invalid_argument, not_found

ADAPTER_SIZES = {
    "gemini-2.5-flash": (1, 2, 4, 8, 16),
    "gemini-2.5-flash-lite": (1, 2, 4, 8, 16),
    "gemini-2.5-pro": (1, 2, 4, 8),
    "gemini-2.0-flash-001": (1, 2, 4, 8),
    "gemini-2.0-flash-lite-001": (1, 2, 4, 8),
}
ADAPTER_ENUM = {
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
EXAMPLES_PER_STEP = 8
FIRST_JOB_ID = 4_000_000_000_000_000_000


@dataclass
class VertexJob:
    id: int
    parent: str
    base_model: str
    display_name: str
    description: str
    dataset_uri: str
    epochs: int
    multiplier: float
    adapter_size: str | None
    examples: list[tuple[str, str]]
    create_time: float
    step_seconds: float
    total_steps: int
    fail: bool = False
    cancelled_at: float | None = None
    endpoint_deployed: bool = True
    endpoint_deleted: bool = False
    model_deleted: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    validation_uri: str | None = None
    validation_examples: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.parent}/tuningJobs/{self.id}"

    @property
    def endpoint(self) -> str:
        return f"{self.parent}/endpoints/{self.id + 1}"

    @property
    def model(self) -> str:
        return f"{self.parent}/models/{self.id + 2}"

    def state(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "JOB_STATE_CANCELLED"
        running_at = self.create_time + self.step_seconds
        end = running_at + self.total_steps * self.step_seconds
        if now < running_at:
            return "JOB_STATE_PENDING"
        if self.fail and now >= running_at + self.total_steps * self.step_seconds / 2:
            return "JOB_STATE_FAILED"
        if now < end:
            return "JOB_STATE_RUNNING"
        return "JOB_STATE_SUCCEEDED"

    def end_time(self) -> float:
        return self.create_time + (self.total_steps + 1) * self.step_seconds


@dataclass
class VertexState:
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    jobs: dict[int, VertexJob] = field(default_factory=dict)
    seq: int = 0


class VertexService:
    """Vertex AI and Cloud Storage state, on the (shared) emulator clock."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        step_seconds: float,
        fail_models: Callable[[], tuple[str, ...]],
        denied_buckets: frozenset[str] = frozenset(),
    ) -> None:
        self._clock = clock
        self._step_seconds = step_seconds
        self._fail_models = fail_models
        self._denied = denied_buckets
        self._lock = threading.RLock()
        self.state = VertexState()

    def reset(self) -> None:
        with self._lock:
            self.state = VertexState()

    def end_times(self) -> list[float]:
        with self._lock:
            return [j.end_time() for j in self.state.jobs.values() if j.cancelled_at is None]

    def job_ids(self) -> list[int]:
        with self._lock:
            return sorted(self.state.jobs)

    def object(self, bucket: str, name: str) -> bytes | None:
        with self._lock:
            return self.state.objects.get((bucket, name))

    # -- Cloud Storage -------------------------------------------------------------------------

    def upload(self, bucket: str, name: str | None, data: bytes) -> dict[str, Any]:
        if not name:
            raise invalid_argument("Required parameter: name", field="name")
        if bucket in self._denied:
            raise ApiError(
                403,
                f"tunebot@emulator.iam.gserviceaccount.com does not have storage.objects.create access "
                f"to the Google Cloud Storage object. Permission 'storage.objects.create' denied on "
                f"resource (or it may not exist). Bucket: {bucket}",
                status="PERMISSION_DENIED",
            )
        with self._lock:
            self.state.objects[(bucket, name)] = data
        return {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(data))}

    # -- tuning jobs ---------------------------------------------------------------------------

    def create_job(self, parent: str, body: Mapping[str, Any]) -> dict[str, Any]:
        base = str(body.get("baseModel") or "")
        if base.startswith("publishers/google/models/"):
            base = base.rsplit("/", 1)[1]
        if base not in ADAPTER_SIZES:
            raise invalid_argument(
                f"Base model {base or '(none)'} is not supported for supervised tuning. Supported: "
                + ", ".join(ADAPTER_SIZES),
                field="base_model",
            )
        spec = body.get("supervisedTuningSpec")
        if not isinstance(spec, dict) or not spec.get("trainingDatasetUri"):
            raise invalid_argument("supervised_tuning_spec.training_dataset_uri is required.")
        uri = str(spec["trainingDatasetUri"])
        hyper = spec.get("hyperParameters") or {}
        adapter = hyper.get("adapterSize")
        if adapter is not None:
            size = ADAPTER_ENUM.get(str(adapter))
            if size is None or size not in ADAPTER_SIZES[base]:
                raise invalid_argument(
                    f"Adapter size {adapter} is not supported for base model {base}.",
                    field="supervised_tuning_spec.hyper_parameters.adapter_size",
                )
        try:
            epochs = int(hyper.get("epochCount") or 3)
            multiplier = float(hyper.get("learningRateMultiplier") or 1.0)
        except (TypeError, ValueError) as exc:
            raise invalid_argument(f"Invalid hyper_parameters: {exc}") from exc
        if not 1 <= epochs <= 100 or not 0 < multiplier <= 100:
            raise invalid_argument("epoch_count must be 1..100 and learning_rate_multiplier in (0, 100].")
        examples = self._read_dataset(uri)
        validation_uri = str(spec.get("validationDatasetUri") or "") or None
        validation = self._read_dataset(validation_uri) if validation_uri else []
        if len(validation) > 5000:
            raise invalid_argument(
                f"Validation dataset {validation_uri} has {len(validation)} examples; at most 5000 "
                "are allowed.",
                field="supervised_tuning_spec.validation_dataset_uri",
            )
        display = str(body.get("tunedModelDisplayName") or "")
        labels = body.get("labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise invalid_argument("labels must map strings to strings.")
        with self._lock:
            self.state.seq += 1
            steps = max(1, math.ceil(len(examples) / EXAMPLES_PER_STEP)) * epochs
            job = VertexJob(
                id=FIRST_JOB_ID + self.state.seq * 10,
                parent=parent,
                base_model=base,
                display_name=display,
                description=str(body.get("description") or ""),
                dataset_uri=uri,
                epochs=epochs,
                multiplier=multiplier,
                adapter_size=str(adapter) if adapter else None,
                examples=examples,
                create_time=self._clock(),
                step_seconds=self._step_seconds,
                total_steps=steps,
                fail=any(fnmatch.fnmatchcase(display, p) for p in self._fail_models()),
                labels={str(k): str(v) for k, v in labels.items()},
                validation_uri=validation_uri,
                validation_examples=validation,
            )
            self.state.jobs[job.id] = job
            return self._job_json(job)

    def _read_dataset(self, uri: str) -> list[tuple[str, str]]:
        bucket, _, name = uri.removeprefix("gs://").partition("/")
        data = self.object(bucket, name) if uri.startswith("gs://") else None
        if data is None:
            raise invalid_argument(f"Training dataset {uri} does not exist or is not readable.")
        examples: list[tuple[str, str]] = []
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                contents = json.loads(line)["contents"]
                turns = {c["role"]: "".join(p.get("text", "") for p in c["parts"]) for c in contents}
                examples.append((turns["user"], turns["model"]))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise invalid_argument(
                    f"Invalid training example on line {number} of {uri}: expected `contents` with a "
                    "`user` and a `model` turn."
                ) from exc
        if not examples:
            raise invalid_argument(f"Training dataset {uri} has no examples.")
        return examples

    def _job(self, parent: str, job_id: str) -> VertexJob:
        try:
            job = self.state.jobs.get(int(job_id))
        except ValueError:
            job = None
        if job is None or job.parent != parent:
            raise not_found(f"TuningJob {parent}/tuningJobs/{job_id} is not found.")
        return job

    def get_job(self, parent: str, job_id: str) -> dict[str, Any]:
        with self._lock:
            return self._job_json(self._job(parent, job_id))

    def list_jobs(
        self, parent: str, page_size: int | None, page_token: str | None, filter_text: str | None = None
    ) -> dict[str, Any]:
        size = min(max(page_size or 100, 1), 1000)
        wanted = _label_filter(filter_text)
        try:
            start = int(page_token or 0)
        except ValueError as exc:
            raise invalid_argument("Invalid page token.") from exc
        with self._lock:
            jobs = sorted(
                (
                    j
                    for j in self.state.jobs.values()
                    if j.parent == parent and all(j.labels.get(k) == v for k, v in wanted.items())
                ),
                key=lambda j: -j.id,
            )
            page = jobs[start : start + size]
            result: dict[str, Any] = {"tuningJobs": [self._job_json(j) for j in page]}
            if start + size < len(jobs):
                result["nextPageToken"] = str(start + size)
            return result

    def cancel_job(self, parent: str, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._job(parent, job_id)
            state = job.state(self._clock())
            if state in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"):
                raise ApiError(
                    400,
                    f"Cannot cancel tuning job {job.name} in state {state}.",
                    status="FAILED_PRECONDITION",
                )
            if job.cancelled_at is None:
                job.cancelled_at = self._clock()
            return {}

    def _job_json(self, job: VertexJob) -> dict[str, Any]:
        now = self._clock()
        state = job.state(now)
        data: dict[str, Any] = {
            "name": job.name,
            "tunedModelDisplayName": job.display_name,
            "baseModel": job.base_model,
            "supervisedTuningSpec": {
                "trainingDatasetUri": job.dataset_uri,
                **({"validationDatasetUri": job.validation_uri} if job.validation_uri else {}),
                "hyperParameters": {
                    "epochCount": str(job.epochs),
                    "learningRateMultiplier": job.multiplier,
                    **({"adapterSize": job.adapter_size} if job.adapter_size else {}),
                },
            },
            "state": state,
            "createTime": _rfc3339(job.create_time),
            "updateTime": _rfc3339(now),
            "tuningDataStats": {
                "supervisedTuningDataStats": {
                    "tuningDatasetExampleCount": str(len(job.examples)),
                    "tuningStepCount": str(job.total_steps),
                }
            },
        }
        if job.description:
            data["description"] = job.description
        if job.labels:
            data["labels"] = dict(job.labels)
        if state != "JOB_STATE_PENDING":
            data["startTime"] = _rfc3339(job.create_time + job.step_seconds)
        if state == "JOB_STATE_SUCCEEDED":
            data["endTime"] = _rfc3339(job.end_time())
            data["tunedModel"] = {"model": f"{job.model}@1", "endpoint": job.endpoint}
        if state == "JOB_STATE_FAILED":
            data["error"] = {"code": 3, "message": "Tuning failed: the training data could not be processed."}
        return data

    # -- endpoints, models, operations ---------------------------------------------------------

    def _ready_job(self, parent: str, resource_id: str, offset: int, what: str) -> VertexJob:
        try:
            job = self.state.jobs.get(int(resource_id) - offset)
        except ValueError:
            job = None
        if job is None or job.parent != parent or job.state(self._clock()) != "JOB_STATE_SUCCEEDED":
            raise not_found(f"{what} {parent}/{what.lower()}s/{resource_id} is not found.")
        return job

    def get_endpoint(self, parent: str, endpoint_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._ready_job(parent, endpoint_id, 1, "Endpoint")
            if job.endpoint_deleted:
                raise not_found(f"Endpoint {job.endpoint} is not found.")
            deployed = [{"id": str(job.id + 3), "model": job.model}] if job.endpoint_deployed else []
            return {"name": job.endpoint, "displayName": job.display_name, "deployedModels": deployed}

    def undeploy(self, parent: str, endpoint_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            job = self._ready_job(parent, endpoint_id, 1, "Endpoint")
            if (
                job.endpoint_deleted
                or not job.endpoint_deployed
                or str(body.get("deployedModelId")) != str(job.id + 3)
            ):
                raise not_found(
                    f"DeployedModel {body.get('deployedModelId')} is not found on {job.endpoint}."
                )
            job.endpoint_deployed = False
            return self._done_operation(parent, job.id + 5)

    def delete_endpoint(self, parent: str, endpoint_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._ready_job(parent, endpoint_id, 1, "Endpoint")
            if job.endpoint_deleted:
                raise not_found(f"Endpoint {job.endpoint} is not found.")
            if job.endpoint_deployed:
                raise ApiError(
                    400,
                    f"Endpoint {job.endpoint} has deployed models; undeploy them first.",
                    status="FAILED_PRECONDITION",
                )
            job.endpoint_deleted = True
            return self._done_operation(parent, job.id + 6)

    def delete_model(self, parent: str, model_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._ready_job(parent, model_id.split("@", 1)[0], 2, "Model")
            if job.model_deleted:
                raise not_found(f"Model {job.model} is not found.")
            if job.endpoint_deployed and not job.endpoint_deleted:
                raise ApiError(
                    400, f"Model {job.model} is deployed to {job.endpoint}.", status="FAILED_PRECONDITION"
                )
            job.model_deleted = True
            return self._done_operation(parent, job.id + 7)

    def get_operation(self, parent: str, operation_id: str) -> dict[str, Any]:
        return {"name": f"{parent}/operations/{operation_id}", "done": True}

    def generate(self, parent: str, endpoint_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            job = self._ready_job(parent, endpoint_id, 1, "Endpoint")
            if job.endpoint_deleted or not job.endpoint_deployed:
                raise not_found(f"Endpoint {job.endpoint} is not found.")
            examples = list(job.examples)
        contents = body.get("contents")
        prompt = ""
        if isinstance(contents, list) and contents and isinstance(contents[-1], dict):
            prompt = "".join(str(p.get("text", "")) for p in contents[-1].get("parts") or [])
        if not prompt.strip():
            raise invalid_argument("contents must hold a user turn with text.")
        text = generation.answer(prompt, examples)
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {
                "promptTokenCount": generation.count_tokens(prompt),
                "candidatesTokenCount": generation.count_tokens(text),
                "totalTokenCount": generation.count_tokens(prompt) + generation.count_tokens(text),
            },
            "modelVersion": job.model,
        }

    @staticmethod
    def _done_operation(parent: str, operation_id: int) -> dict[str, Any]:
        return {"name": f"{parent}/operations/{operation_id}", "done": True}


_LABEL_TERM = re.compile(r'^labels\.([a-z][a-z0-9_-]*)\s*=\s*"?([^"]*)"?$')


def _label_filter(text: str | None) -> dict[str, str]:
    """The `labels.KEY="VALUE" AND …` filters Vertex's list accepts (the only kind emulated)."""
    wanted: dict[str, str] = {}
    for term in re.split(r"\s+AND\s+", (text or "").strip()):
        if not term:
            continue
        match = _LABEL_TERM.match(term.strip())
        if match is None:
            raise invalid_argument(f"Unsupported filter: {term}")
        wanted[match.group(1)] = match.group(2)
    return wanted


def _rfc3339(ts: float) -> str:
    from bot.emulator.service import rfc3339

    return rfc3339(ts)


# ---- HTTP ------------------------------------------------------------------------------------


def route(method: str, path: str) -> tuple[str, str, str | None, str | None]:
    """`projects/p/locations/l/<collection>[/<id>[:verb]]` -> (kind, parent, id, verb)."""
    parts = path.strip("/").split("/")
    missing = ApiError(404, f"Method not found: {method} /v1/{path}.", status="NOT_FOUND")
    if len(parts) < 5 or parts[0] != "projects" or parts[2] != "locations":
        raise missing
    parent = "/".join(parts[:4])
    collection, rest = parts[4], parts[5:]
    collection, _, verb_on_collection = collection.partition(":")
    if verb_on_collection or len(rest) > 1:
        raise missing
    resource_id, verb = (
        (rest[0].partition(":")[0], rest[0].partition(":")[2] or None) if rest else (None, None)
    )
    kinds = {
        ("tuningJobs", "POST", False, None): "tuningJobs.create",
        ("tuningJobs", "GET", False, None): "tuningJobs.list",
        ("tuningJobs", "GET", True, None): "tuningJobs.get",
        ("tuningJobs", "POST", True, "cancel"): "tuningJobs.cancel",
        ("endpoints", "GET", True, None): "endpoints.get",
        ("endpoints", "DELETE", True, None): "endpoints.delete",
        ("endpoints", "POST", True, "undeployModel"): "endpoints.undeployModel",
        ("endpoints", "POST", True, "generateContent"): "endpoints.generateContent",
        ("models", "DELETE", True, None): "models.delete",
        ("operations", "GET", True, None): "operations.get",
    }
    kind = kinds.get((collection, method, resource_id is not None, verb))
    if kind is None:
        raise missing
    return "vertex." + kind, parent, resource_id, verb


def authenticate(request: Request) -> None:
    scheme, _, token = (request.headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "Request is missing required authentication credential. Expected OAuth 2 access token.",
            status="UNAUTHENTICATED",
        )


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise invalid_argument(f"Invalid JSON payload received. {exc}") from exc
    if not isinstance(body, dict):
        raise invalid_argument("Invalid JSON payload received: expected an object.")
    return body


async def dispatch(
    kind: str, parent: str, resource_id: str | None, request: Request, svc: VertexService
) -> Any:
    if kind == "vertex.tuningJobs.create":
        return svc.create_job(parent, await _json_body(request))
    if kind == "vertex.tuningJobs.list":
        size = request.query_params.get("pageSize")
        try:
            page_size = int(size) if size else None
        except ValueError as exc:
            raise invalid_argument("pageSize must be an integer.") from exc
        return svc.list_jobs(
            parent, page_size, request.query_params.get("pageToken"), request.query_params.get("filter")
        )
    assert resource_id is not None
    handlers: dict[str, Callable[[], Any]] = {
        "vertex.tuningJobs.get": lambda: svc.get_job(parent, resource_id),
        "vertex.tuningJobs.cancel": lambda: svc.cancel_job(parent, resource_id),
        "vertex.endpoints.get": lambda: svc.get_endpoint(parent, resource_id),
        "vertex.endpoints.delete": lambda: svc.delete_endpoint(parent, resource_id),
        "vertex.models.delete": lambda: svc.delete_model(parent, resource_id),
        "vertex.operations.get": lambda: svc.get_operation(parent, resource_id),
    }
    if kind == "vertex.endpoints.undeployModel":
        return svc.undeploy(parent, resource_id, await _json_body(request))
    if kind == "vertex.endpoints.generateContent":
        return svc.generate(parent, resource_id, await _json_body(request))
    return handlers[kind]()


Guard = Callable[[str], ApiError | None]
Recorder = Callable[[str, int], None]


def make_handlers(
    svc: VertexService, draw_fault: Guard, record: Recorder
) -> tuple[Callable[[Request], Any], Callable[[Request], Any]]:
    """The two Starlette endpoints: the Vertex API (`/v1/projects/...`) and the GCS upload."""

    def error_response(error: ApiError) -> Response:
        return JSONResponse(error.body(), status_code=error.code, headers=error.headers)

    async def api(request: Request) -> Response:
        kind = "vertex.unknown"
        try:
            kind, parent, resource_id, _verb = route(
                request.method, "projects/" + request.path_params["path"]
            )
            authenticate(request)
            fault = draw_fault(kind)
            if fault is not None:
                raise fault
            response: Response = JSONResponse(await dispatch(kind, parent, resource_id, request, svc))
        except ApiError as error:
            response = error_response(error)
        record(kind, response.status_code)
        return response

    async def upload(request: Request) -> Response:
        kind = "storage.objects.insert"
        try:
            authenticate(request)
            if request.query_params.get("uploadType") != "media":
                raise invalid_argument("Only uploadType=media is emulated.")
            fault = draw_fault(kind)
            if fault is not None:
                raise fault
            data = await request.body()
            result = svc.upload(request.path_params["bucket"], request.query_params.get("name"), data)
            response: Response = JSONResponse(result)
        except ApiError as error:
            response = error_response(error)
        record(kind, response.status_code)
        return response

    return api, upload
