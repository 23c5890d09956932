"""endpoints: the endpoint a succeeded tuning job deploys its model to; get, undeployModel,
delete and generateContent (the "model" answers with the output of its most similar training
example). The endpoint is created, and the model deployed, when the job succeeds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from standins.emulator.core import generation, protojson
from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import ApiError, invalid_argument, not_found
from standins.emulator.core.lro import without_defaults
from standins.emulator.vertex import operations, schema
from standins.emulator.vertex.routing import Routes, VertexCall
from standins.emulator.vertex.service import VertexService
from standins.emulator.vertex.state import CheckpointEndpoint, VertexJob


@dataclass
class Served:
    """One endpoint of a tuning job: its main endpoint, or an intermediate checkpoint's."""

    job: VertexJob
    checkpoint: CheckpointEndpoint | None = None

    @property
    def name(self) -> str:
        if self.checkpoint is None:
            return self.job.endpoint
        return f"{self.job.serving_parent}/endpoints/{self.checkpoint.id}"

    @property
    def deployed_model_id(self) -> str:
        return self.job.deployed_model_id if self.checkpoint is None else str(self.checkpoint.id + 3)

    @property
    def deployed(self) -> bool:
        return self.job.endpoint_deployed if self.checkpoint is None else self.checkpoint.deployed

    @property
    def undeploy_time(self) -> float | None:
        return self.job.undeploy_time if self.checkpoint is None else self.checkpoint.undeploy_time

    def undeploy(self, now: float) -> None:
        if self.checkpoint is None:
            self.job.endpoint_deployed = False
            self.job.undeploy_time = now
        else:
            self.checkpoint.deployed = False
            self.checkpoint.undeploy_time = now

    def delete(self) -> None:
        if self.checkpoint is None:
            self.job.endpoint_deleted = True
        else:
            self.checkpoint.deleted = True

    @property
    def operation_base(self) -> int:
        return self.job.id if self.checkpoint is None else self.checkpoint.id


def _endpoint(svc: VertexService, call: VertexCall) -> Served:
    found = svc.state.checkpoint_endpoints.get(_int(call.resource_id))
    if found is not None:
        job_id, epoch = found
        job = svc.ready_job(call.parent, str(job_id + 1), 1, "Endpoint")
        checkpoint = job.checkpoint_endpoints[epoch]
        usable = job.state(svc.now()) == "JOB_STATE_SUCCEEDED" or epoch in job.kept_epochs()
        if checkpoint.deleted or not usable:
            raise not_found(f"Endpoint {call.parent}/endpoints/{call.resource_id} is not found.")
        return Served(job, checkpoint)
    job = svc.ready_job(call.parent, call.resource_id, 1, "Endpoint")
    if not job.main_endpoint_live:
        raise not_found(f"Endpoint {job.endpoint} is not found.")
    return Served(job)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def endpoint_json(served: Served) -> dict[str, Any]:
    job = served.job
    created = rfc3339(job.succeeds_at())
    undeployed = served.undeploy_time
    data: dict[str, Any] = {
        "name": served.name,
        "displayName": job.display_name,
        "createTime": created,
        "updateTime": rfc3339(undeployed if undeployed is not None else job.succeeds_at()),
        "labels": dict(job.labels),
    }
    if served.deployed:
        data["deployedModels"] = [
            {
                "id": served.deployed_model_id,
                "model": job.model,
                "modelVersionId": "1",
                "displayName": job.display_name,
                "createTime": created,
            }
        ]
        data["trafficSplit"] = {served.deployed_model_id: 100}
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
        served = _endpoint(svc, call)
        if not served.deployed or wanted != served.deployed_model_id:
            raise not_found(f"DeployedModel {wanted} is not found on {served.name}.")
        served.undeploy(svc.now())
        done = operations.finish(
            svc,
            call.parent,
            served.operation_base + 5,
            "UndeployModelOperationMetadata",
            "UndeployModelResponse",
        )
        return operations.operation_json(done, call.version)


def delete(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        served = _endpoint(svc, call)
        if served.deployed:
            raise ApiError(
                400,
                f"Endpoint {served.name} has deployed models; undeploy them first.",
                status="FAILED_PRECONDITION",
            )
        served.delete()
        done = operations.finish(svc, call.parent, served.operation_base + 6, "DeleteOperationMetadata", None)
        return operations.operation_json(done, call.version)


def generate(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        served = _endpoint(svc, call)
        if not served.deployed:
            raise not_found(f"Endpoint {served.name} is not found.")
        job = served.job
        examples = job.learnt
    asked = conversation_of(call)
    check_conversation(call.body, job.base_model)
    with svc.lock:
        svc.generate_requests.append(dict(call.body))
    text = generation.answer_conversation(asked.history, asked.prompt, asked.system, examples)
    return generation_response(asked, text, job.model)


@dataclass(frozen=True)
class Asked:
    """A generateContent body's conversation: earlier turn texts, the last turn, the system
    instruction."""

    history: tuple[str, ...]
    prompt: str
    system: str | None

    @property
    def prompt_tokens(self) -> int:
        texts = [*self.history, self.prompt, self.system or ""]
        return sum(generation.count_tokens(text) for text in texts)


def _text(content: Any) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    return "".join(str(p.get("text", "")) for p in parts or [] if isinstance(p, dict))


def conversation_of(call: VertexCall) -> Asked:
    """The whole conversation of a generateContent body (Google refuses an empty last turn)."""
    contents = call.body.get("contents")
    turns = [_text(c) for c in contents] if isinstance(contents, list) else []
    if not turns or not turns[-1].strip():
        raise invalid_argument("contents must hold a user turn with text.")
    system = call.body.get("systemInstruction")
    return Asked(tuple(turns[:-1]), turns[-1], _text(system) or None)


THINKING_BUDGETS = {"pro": (128, 32768), "flash": (0, 24576)}  # 2.5 models: min and max


def check_conversation(body: dict[str, Any], base_model: str) -> None:
    """Refuse what generateContent refuses: turns with a role other than user/model, a
    conversation that does not end with a user turn, a malformed systemInstruction, and a
    thinking budget the base model does not allow (2.5 Pro only thinks: 0 is refused)."""
    contents = body.get("contents")
    turns = contents if isinstance(contents, list) else []
    for turn in turns:
        if not isinstance(turn, dict) or turn.get("role", "user") not in ("user", "model"):
            raise invalid_argument("Please use a valid role: user, model.")
    if turns and turns[-1].get("role", "user") != "user":
        raise invalid_argument(
            "Please ensure that multiturn requests end with a user role or a function response."
        )
    system = body.get("systemInstruction")
    if system is not None and not (isinstance(system, dict) and isinstance(system.get("parts"), list)):
        raise invalid_argument("Invalid value at 'system_instruction': parts must be a list.")
    thinking = (body.get("generationConfig") or {}).get("thinkingConfig") or {}
    budget = thinking.get("thinkingBudget")
    short = base_model.rsplit("/", 1)[-1]
    if isinstance(budget, int) and short.startswith("gemini-2.5"):
        low, high = THINKING_BUDGETS["pro" if "pro" in short else "flash"]
        if budget == 0 and low > 0:
            raise invalid_argument("Budget 0 is invalid. This model only works in thinking mode.")
        if not low <= budget <= high:
            raise invalid_argument(
                f"The thinking budget {budget} is invalid. Please choose a value between {low} and {high}."
            )


def generation_response(asked: Asked, text: str, model_version: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
        "usageMetadata": {
            "promptTokenCount": asked.prompt_tokens,
            "candidatesTokenCount": generation.count_tokens(text),
            "totalTokenCount": asked.prompt_tokens + generation.count_tokens(text),
        },
        "modelVersion": model_version,
    }


ROUTES: Routes = {
    ("GET", "endpoints/*"): ("endpoints.get", get),
    ("DELETE", "endpoints/*"): ("endpoints.delete", delete),
    ("POST", "endpoints/*:undeployModel"): ("endpoints.undeployModel", undeploy),
    ("POST", "endpoints/*:generateContent"): ("endpoints.generateContent", generate),
}
