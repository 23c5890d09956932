"""tuningJobs: supervised tuning of a Gemini base model on a JSONL file in Cloud Storage.

A job is JOB_STATE_PENDING for one step, JOB_STATE_RUNNING for `tuningStepCount` steps, then
JOB_STATE_SUCCEEDED with a tuned model deployed to an endpoint (or JOB_STATE_FAILED when its
display name is in the fault config's `fail_models`). Nothing is trained.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bot.emulator.core.clock import rfc3339
from bot.emulator.core.errors import ApiError, invalid_argument, not_found
from bot.emulator.vertex.routing import Routes, VertexCall
from bot.emulator.vertex.service import VertexService
from bot.emulator.vertex.state import EXAMPLES_PER_STEP, FIRST_JOB_ID, VertexJob

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


def create(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    body = call.body
    parent = call.parent
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
    examples = read_dataset(svc, uri)
    validation_uri = str(spec.get("validationDatasetUri") or "") or None
    validation = read_dataset(svc, validation_uri) if validation_uri else []
    if len(validation) > 5000:
        raise invalid_argument(
            f"Validation dataset {validation_uri} has {len(validation)} examples; at most 5000 are allowed.",
            field="supervised_tuning_spec.validation_dataset_uri",
        )
    display = str(body.get("tunedModelDisplayName") or "")
    labels = body.get("labels") or {}
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise invalid_argument("labels must map strings to strings.")
    with svc.lock:
        svc.state.seq += 1
        steps = max(1, math.ceil(len(examples) / EXAMPLES_PER_STEP)) * epochs
        job = VertexJob(
            id=FIRST_JOB_ID + svc.state.seq * 10,
            parent=parent,
            base_model=base,
            display_name=display,
            description=str(body.get("description") or ""),
            dataset_uri=uri,
            epochs=epochs,
            multiplier=multiplier,
            adapter_size=str(adapter) if adapter else None,
            examples=examples,
            create_time=svc.now(),
            step_seconds=svc.step_seconds,
            total_steps=steps,
            fail=svc.should_fail(display),
            labels={str(k): str(v) for k, v in labels.items()},
            validation_uri=validation_uri,
            validation_examples=validation,
        )
        svc.state.jobs[job.id] = job
        return job_json(svc, job)


def read_dataset(svc: VertexService, uri: str) -> list[tuple[str, str]]:
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    data = svc.object(bucket, name) if uri.startswith("gs://") else None
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


def find_job(svc: VertexService, parent: str, job_id: str) -> VertexJob:
    try:
        job = svc.state.jobs.get(int(job_id))
    except ValueError:
        job = None
    if job is None or job.parent != parent:
        raise not_found(f"TuningJob {parent}/tuningJobs/{job_id} is not found.")
    return job


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        return job_json(svc, find_job(svc, call.parent, call.resource_id))


def list_jobs(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    size_text = call.query.get("pageSize")
    try:
        page_size = int(size_text) if size_text else None
    except ValueError as exc:
        raise invalid_argument("pageSize must be an integer.") from exc
    size = min(max(page_size or 100, 1), 1000)
    wanted = label_filter(call.query.get("filter"))
    try:
        start = int(call.query.get("pageToken") or 0)
    except ValueError as exc:
        raise invalid_argument("Invalid page token.") from exc
    with svc.lock:
        jobs = sorted(
            (
                j
                for j in svc.state.jobs.values()
                if j.parent == call.parent and all(j.labels.get(k) == v for k, v in wanted.items())
            ),
            key=lambda j: -j.id,
        )
        page = jobs[start : start + size]
        result: dict[str, Any] = {"tuningJobs": [job_json(svc, j) for j in page]}
        if start + size < len(jobs):
            result["nextPageToken"] = str(start + size)
        return result


def cancel(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = find_job(svc, call.parent, call.resource_id)
        state = job.state(svc.now())
        if state in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"):
            raise ApiError(
                400,
                f"Cannot cancel tuning job {job.name} in state {state}.",
                status="FAILED_PRECONDITION",
            )
        if job.cancelled_at is None:
            job.cancelled_at = svc.now()
        return {}


def job_json(svc: VertexService, job: VertexJob) -> dict[str, Any]:
    now = svc.now()
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
        "createTime": rfc3339(job.create_time),
        "updateTime": rfc3339(now),
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
        data["startTime"] = rfc3339(job.create_time + job.step_seconds)
    if state == "JOB_STATE_SUCCEEDED":
        data["endTime"] = rfc3339(job.end_time())
        data["tunedModel"] = {"model": f"{job.model}@1", "endpoint": job.endpoint}
    if state == "JOB_STATE_FAILED":
        data["error"] = {"code": 3, "message": "Tuning failed: the training data could not be processed."}
    return data


_LABEL_TERM = re.compile(r'^labels\.([a-z][a-z0-9_-]*)\s*=\s*"?([^"]*)"?$')


def label_filter(text: str | None) -> dict[str, str]:
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


ROUTES: Routes = {
    ("POST", "tuningJobs"): ("tuningJobs.create", create),
    ("GET", "tuningJobs"): ("tuningJobs.list", list_jobs),
    ("GET", "tuningJobs/*"): ("tuningJobs.get", get),
    ("POST", "tuningJobs/*:cancel"): ("tuningJobs.cancel", cancel),
}
