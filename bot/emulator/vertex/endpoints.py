"""endpoints: the endpoint a succeeded tuning job deploys its model to; undeploy, delete and
generateContent (the "model" answers with the output of its most similar training example)."""

from __future__ import annotations

from typing import Any

from bot.emulator.core import generation
from bot.emulator.core.errors import ApiError, invalid_argument, not_found
from bot.emulator.core.lro import done_operation
from bot.emulator.vertex.routing import Routes, VertexCall
from bot.emulator.vertex.service import VertexService


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = svc.ready_job(call.parent, call.resource_id, 1, "Endpoint")
        if job.endpoint_deleted:
            raise not_found(f"Endpoint {job.endpoint} is not found.")
        deployed = [{"id": str(job.id + 3), "model": job.model}] if job.endpoint_deployed else []
        return {"name": job.endpoint, "displayName": job.display_name, "deployedModels": deployed}


def undeploy(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    body = call.body
    with svc.lock:
        job = svc.ready_job(call.parent, call.resource_id, 1, "Endpoint")
        if (
            job.endpoint_deleted
            or not job.endpoint_deployed
            or str(body.get("deployedModelId")) != str(job.id + 3)
        ):
            raise not_found(f"DeployedModel {body.get('deployedModelId')} is not found on {job.endpoint}.")
        job.endpoint_deployed = False
        return done_operation(f"{call.parent}/operations/{job.id + 5}")


def delete(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = svc.ready_job(call.parent, call.resource_id, 1, "Endpoint")
        if job.endpoint_deleted:
            raise not_found(f"Endpoint {job.endpoint} is not found.")
        if job.endpoint_deployed:
            raise ApiError(
                400,
                f"Endpoint {job.endpoint} has deployed models; undeploy them first.",
                status="FAILED_PRECONDITION",
            )
        job.endpoint_deleted = True
        return done_operation(f"{call.parent}/operations/{job.id + 6}")


def generate(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = svc.ready_job(call.parent, call.resource_id, 1, "Endpoint")
        if job.endpoint_deleted or not job.endpoint_deployed:
            raise not_found(f"Endpoint {job.endpoint} is not found.")
        examples = list(job.examples)
    prompt = prompt_of(call)
    return generation_response(prompt, generation.answer(prompt, examples), job.model)


def prompt_of(call: VertexCall) -> str:
    """The text of the last turn of a generateContent body (Google refuses an empty one)."""
    contents = call.body.get("contents")
    prompt = ""
    if isinstance(contents, list) and contents and isinstance(contents[-1], dict):
        prompt = "".join(str(p.get("text", "")) for p in contents[-1].get("parts") or [])
    if not prompt.strip():
        raise invalid_argument("contents must hold a user turn with text.")
    return prompt


def generation_response(prompt: str, text: str, model_version: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": generation.count_tokens(prompt),
            "candidatesTokenCount": generation.count_tokens(text),
            "totalTokenCount": generation.count_tokens(prompt) + generation.count_tokens(text),
        },
        "modelVersion": model_version,
    }


ROUTES: Routes = {
    ("GET", "endpoints/*"): ("endpoints.get", get),
    ("DELETE", "endpoints/*"): ("endpoints.delete", delete),
    ("POST", "endpoints/*:undeployModel"): ("endpoints.undeployModel", undeploy),
    ("POST", "endpoints/*:generateContent"): ("endpoints.generateContent", generate),
}
