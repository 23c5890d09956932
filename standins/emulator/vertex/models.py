"""models: the Model a succeeded tuning job registers (`{parent}/models/{id}`, version 1):
get (with or without `@version`), list (`filter`, paging) and delete.

A tuned model carries its job's labels plus `google-vertex-llm-tuning-base-model-id` (the base
model id, dots written as underscores, as label values allow),
`google-vertex-llm-tuning-job-id` and `tune-type` (how it was tuned: `sft`), the label
google-genai's `models.list(config={"query_base": False})` filters on (`labels.tune-type:*`).
The list's filter: `filters.py`.
"""

from __future__ import annotations

from typing import Any

from standins.emulator.core import protojson
from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import ApiError, not_found
from standins.emulator.core.lro import without_defaults
from standins.emulator.core.paging import clamp_page_size, decode_token, encode_token
from standins.emulator.vertex import filters, operations
from standins.emulator.vertex.routing import Routes, VertexCall
from standins.emulator.vertex.service import VertexService
from standins.emulator.vertex.state import VertexJob

LIST_QUERY = {
    "filter": "string",
    "page_size": "int32",
    "page_token": "string",
    "read_mask": "string",
    "order_by": "string",
}
FILTER_FIELDS = {
    "display_name": ("display_name", "=", "!="),
    "displayName": ("display_name", "=", "!="),
    "model": ("model", "=", "!="),  # the model's id
}
TUNE_TYPE = "sft"


def model_labels(job: VertexJob) -> dict[str, str]:
    return {
        **job.labels,
        "google-vertex-llm-tuning-base-model-id": job.base_model.replace(".", "_"),
        "google-vertex-llm-tuning-job-id": str(job.id),
        "tune-type": TUNE_TYPE,
    }


def model_json(job: VertexJob) -> dict[str, Any]:
    created = rfc3339(job.succeeds_at())
    deployed = []
    if job.endpoint_deployed and job.main_endpoint_live:
        deployed = [{"endpoint": job.endpoint, "deployedModelId": job.deployed_model_id}]
    data = {
        "name": job.model,
        "versionId": "1",
        "versionAliases": ["default"],
        "versionCreateTime": created,
        "versionUpdateTime": created,
        "displayName": job.display_name,
        "description": job.description,
        "createTime": created,
        "updateTime": rfc3339(job.undeploy_time if job.undeploy_time is not None else job.succeeds_at()),
        "deployedModels": deployed,
        "labels": model_labels(job),
        "modelSourceInfo": {"sourceType": "GENIE"},
    }
    return without_defaults(data)


def _model(svc: VertexService, call: VertexCall) -> VertexJob:
    model_id, _, version = call.resource_id.partition("@")
    job = svc.ready_job(call.parent, model_id, 2, "Model")
    if job.model_deleted or version not in ("", "1", "default"):
        raise not_found(f"Model {call.parent}/models/{call.resource_id} is not found.")
    return job


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        return model_json(_model(svc, call))


def _matches(job: VertexJob, restrictions: list[filters.Restriction]) -> bool:
    values = {"display_name": job.display_name, "model": job.model.rsplit("/", 1)[1]}
    return filters.matches(restrictions, model_labels(job), values)


def list_models(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    query = protojson.parse_query(call.query, LIST_QUERY)
    terms = filters.parse(query.get("filter"), FILTER_FIELDS)
    size = clamp_page_size(query.get("page_size"), default=100)
    scope = f"models:{call.parent}:{query.get('filter', '')}"
    start = decode_token(query["page_token"], scope) if query.get("page_token") else 0
    now = svc.now()
    with svc.lock:
        jobs = [
            job
            for job in sorted(svc.state.jobs.values(), key=lambda j: j.id)
            if job.parent == call.parent
            and job.state(now) == "JOB_STATE_SUCCEEDED"
            and not job.model_deleted
            and _matches(job, terms)
        ]
        page = jobs[start : start + size]
        out: dict[str, Any] = {"models": [model_json(job) for job in page]}
        if start + size < len(jobs):
            out["nextPageToken"] = encode_token(start + size, scope)
        return without_defaults(out)


def delete(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        job = _model(svc, call)
        if job.endpoint_deployed and job.main_endpoint_live:
            raise ApiError(
                400, f"Model {job.model} is deployed to {job.endpoint}.", status="FAILED_PRECONDITION"
            )
        still = [c for c in job.existing_checkpoints().values() if c.deployed and not c.deleted]
        if still:
            raise ApiError(
                400,
                f"Model {job.model} is deployed to {job.serving_parent}/endpoints/{still[0].id}.",
                status="FAILED_PRECONDITION",
            )
        job.model_deleted = True
        done = operations.finish(svc, call.parent, job.id + 7, "DeleteOperationMetadata", None)
        return operations.operation_json(done, call.version)


ROUTES: Routes = {
    ("GET", "models"): ("models.list", list_models),
    ("GET", "models/*"): ("models.get", get),
    ("DELETE", "models/*"): ("models.delete", delete),
}
