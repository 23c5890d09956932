"""endpoints: the endpoint a succeeded tuning job deploys its model to; get, undeployModel,
delete and generateContent (the "model" answers with the output of its most similar training
example). The endpoint is created, and the model deployed, when the job succeeds."""

from __future__ import annotations

from typing import Any

from bot.emulator.core import generation, protojson
from bot.emulator.core.clock import rfc3339
from bot.emulator.core.errors import ApiError, invalid_argument, not_found
from bot.emulator.core.lro import without_defaults
from bot.emulator.vertex import operations, schema
from bot.emulator.vertex.routing import Routes, VertexCall
from bot.emulator.vertex.service import VertexService
from bot.emulator.vertex.state import VertexJob


def _endpoint(svc: VertexService, call: VertexCall) -> VertexJob:
    job = svc.ready_job(call.parent, call.resource_id, 1, "Endpoint")
    if job.endpoint_deleted:
        raise not_found(f"Endpoint {job.endpoint} is not found.")
    return job


def endpoint_json(job: VertexJob) -> dict[str, Any]:
    created = rfc3339(job.succeeds_at())
    data: dict[str, Any] = {
        "name": job.endpoint,
        "displayName": job.display_name,
        "createTime": created,
        "updateTime": rfc3339(job.undeploy_time if job.undeploy_time is not None else job.succeeds_at()),
        "labels": dict(job.labels),
    }
    if job.endpoint_deployed:
        data["deployedModels"] = [
            {
                "id": job.deployed_model_id,
                "model": job.model,
                "modelVersionId": "1",
                "displayName": job.display_name,
                "createTime": created,
            }
        ]
        data["trafficSplit"] = {job.deployed_model_id: 100}
    return without_defaults(data)


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        return endpoint_json(_endpoint(svc, call))


def undeploy(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    body = protojson.parse_message(call.body, schema.undeploy_model_request(call.version), "")
    wanted = body.get("deployed_model_id", "")
    with svc.lock:
        job = _endpoint(svc, call)
        if not job.endpoint_deployed or wanted != job.deployed_model_id:
            raise not_found(f"DeployedModel {wanted} is not found on {job.endpoint}.")
        job.endpoint_deployed = False
        job.undeploy_time = svc.now()
        done = operations.finish(
            svc, call.parent, job.id + 5, "UndeployModelOperationMetadata", "UndeployModelResponse"
        )
        return operations.operation_json(done, call.version)


def delete(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        job = _endpoint(svc, call)
        if job.endpoint_deployed:
            raise ApiError(
                400,
                f"Endpoint {job.endpoint} has deployed models; undeploy them first.",
                status="FAILED_PRECONDITION",
            )
        job.endpoint_deleted = True
        done = operations.finish(svc, call.parent, job.id + 6, "DeleteOperationMetadata", None)
        return operations.operation_json(done, call.version)


def generate(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = _endpoint(svc, call)
        if not job.endpoint_deployed:
            raise not_found(f"Endpoint {job.endpoint} is not found.")
        examples = list(job.examples)
    contents = call.body.get("contents")
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


ROUTES: Routes = {
    ("GET", "endpoints/*"): ("endpoints.get", get),
    ("DELETE", "endpoints/*"): ("endpoints.delete", delete),
    ("POST", "endpoints/*:undeployModel"): ("endpoints.undeployModel", undeploy),
    ("POST", "endpoints/*:generateContent"): ("endpoints.generateContent", generate),
}
