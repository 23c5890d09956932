"""Typed, immutable views of the Gemini API's JSON resources (tunedModels, operations).

Every parser takes the camelCase JSON the service sends and tolerates missing fields:
Google's JSON omits proto3 default values (0, "", false), so an absent `completedSteps`
means 0 and an absent `done` means the operation is still running.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JSON = dict[str, Any]

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp (`2024-05-01T10:00:01.123456789Z`) -> an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _int(value: object, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):  # int64 fields arrive as strings
        try:
            return int(value)
        except ValueError:
            return default
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return default


def _float(value: object, default: float | None = None) -> float | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return default
    return default


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: object) -> JSON:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class TuningExample:
    """One input -> output training pair."""

    text_input: str
    output: str

    def to_json(self) -> JSON:
        return {"textInput": self.text_input, "output": self.output}


@dataclass(frozen=True)
class Hyperparameters:
    epoch_count: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    learning_rate_multiplier: float | None = None

    @classmethod
    def from_json(cls, data: object) -> Hyperparameters:
        d = _dict(data)
        return cls(
            epoch_count=_int(d.get("epochCount")),
            batch_size=_int(d.get("batchSize")),
            learning_rate=_float(d.get("learningRate")),
            learning_rate_multiplier=_float(d.get("learningRateMultiplier")),
        )

    def to_json(self) -> JSON:
        out: JSON = {}
        if self.epoch_count is not None:
            out["epochCount"] = self.epoch_count
        if self.batch_size is not None:
            out["batchSize"] = self.batch_size
        if self.learning_rate is not None:
            out["learningRate"] = self.learning_rate
        if self.learning_rate_multiplier is not None:
            out["learningRateMultiplier"] = self.learning_rate_multiplier
        return out


@dataclass(frozen=True)
class TuningSnapshot:
    """The loss after one tuning step."""

    step: int
    epoch: int | None = None
    mean_loss: float | None = None
    compute_time: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> TuningSnapshot:
        d = _dict(data)
        return cls(
            step=_int(d.get("step"), 0) or 0,
            epoch=_int(d.get("epoch"), 0),
            mean_loss=_float(d.get("meanLoss")),
            compute_time=parse_time(d.get("computeTime")),
        )


@dataclass(frozen=True)
class TuningTask:
    start_time: datetime | None = None
    complete_time: datetime | None = None
    snapshots: list[TuningSnapshot] = field(default_factory=list)
    hyperparameters: Hyperparameters | None = None

    @classmethod
    def from_json(cls, data: object) -> TuningTask:
        d = _dict(data)
        return cls(
            start_time=parse_time(d.get("startTime")),
            complete_time=parse_time(d.get("completeTime")),
            snapshots=[TuningSnapshot.from_json(s) for s in _list(d.get("snapshots"))],
            hyperparameters=(
                Hyperparameters.from_json(d["hyperparameters"]) if "hyperparameters" in d else None
            ),
        )


@dataclass(frozen=True)
class TunedModel:
    """A `tunedModels/{id}` resource. `state` is CREATING, ACTIVE or FAILED."""

    name: str
    display_name: str | None = None
    description: str | None = None
    state: str | None = None
    base_model: str | None = None
    create_time: datetime | None = None
    update_time: datetime | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    tuning_task: TuningTask | None = None

    @property
    def id(self) -> str:
        return self.name.removeprefix("tunedModels/")

    @classmethod
    def from_json(cls, data: object) -> TunedModel:
        d = _dict(data)
        base_model = _str(d.get("baseModel"))
        if base_model is None:  # a model tuned from another tuned model names its source instead
            base_model = _str(_dict(d.get("tunedModelSource")).get("baseModel"))
        return cls(
            name=_str(d.get("name")) or "",
            display_name=_str(d.get("displayName")),
            description=_str(d.get("description")),
            state=_str(d.get("state")),
            base_model=base_model,
            create_time=parse_time(d.get("createTime")),
            update_time=parse_time(d.get("updateTime")),
            temperature=_float(d.get("temperature")),
            top_p=_float(d.get("topP")),
            top_k=_int(d.get("topK")),
            tuning_task=TuningTask.from_json(d["tuningTask"]) if "tuningTask" in d else None,
        )


@dataclass(frozen=True)
class TunedModelPage:
    tuned_models: list[TunedModel]
    next_page_token: str | None = None

    @classmethod
    def from_json(cls, data: object) -> TunedModelPage:
        d = _dict(data)
        return cls(
            tuned_models=[TunedModel.from_json(m) for m in _list(d.get("tunedModels"))],
            next_page_token=_str(d.get("nextPageToken")) or None,
        )


@dataclass(frozen=True)
class OperationMetadata:
    """`CreateTunedModelMetadata`: the progress of a tuning job."""

    tuned_model: str | None = None
    total_steps: int | None = None
    completed_steps: int = 0
    completed_percent: float = 0.0
    snapshots: list[TuningSnapshot] = field(default_factory=list)
    type_url: str | None = None

    @classmethod
    def from_json(cls, data: object) -> OperationMetadata:
        d = _dict(data)
        return cls(
            tuned_model=_str(d.get("tunedModel")),
            total_steps=_int(d.get("totalSteps")),
            completed_steps=_int(d.get("completedSteps"), 0) or 0,
            completed_percent=_float(d.get("completedPercent"), 0.0) or 0.0,
            snapshots=[TuningSnapshot.from_json(s) for s in _list(d.get("snapshots"))],
            type_url=_str(d.get("@type")),
        )


CreateTunedModelMetadata = OperationMetadata


@dataclass(frozen=True)
class OperationError:
    """A `google.rpc.Status`: `code` is the numeric RPC code (13 = INTERNAL), not an HTTP status."""

    code: int
    message: str
    details: list[JSON] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: object) -> OperationError:
        d = _dict(data)
        return cls(
            code=_int(d.get("code"), 0) or 0,
            message=_str(d.get("message")) or "",
            details=[x for x in _list(d.get("details")) if isinstance(x, dict)],
        )


@dataclass(frozen=True)
class Operation:
    """A long-running operation, as tunedModels.create and operations.get return it."""

    name: str
    done: bool = False
    metadata: OperationMetadata | None = None
    error: OperationError | None = None
    response: TunedModel | None = None

    @property
    def tuned_model_name(self) -> str | None:
        if self.metadata and self.metadata.tuned_model:
            return self.metadata.tuned_model
        if self.response is not None and self.response.name:
            return self.response.name
        if self.name.startswith("tunedModels/") and "/operations/" in self.name:
            return self.name.split("/operations/", 1)[0]
        return None

    @classmethod
    def from_json(cls, data: object) -> Operation:
        d = _dict(data)
        metadata, error, response = d.get("metadata"), d.get("error"), d.get("response")
        return cls(
            name=_str(d.get("name")) or "",
            done=d.get("done") is True,
            metadata=OperationMetadata.from_json(metadata) if isinstance(metadata, dict) else None,
            error=OperationError.from_json(error) if isinstance(error, dict) else None,
            response=TunedModel.from_json(response) if _dict(response).get("name") else None,
        )


@dataclass(frozen=True)
class OperationPage:
    operations: list[Operation]
    next_page_token: str | None = None

    @classmethod
    def from_json(cls, data: object) -> OperationPage:
        d = _dict(data)
        return cls(
            operations=[Operation.from_json(o) for o in _list(d.get("operations"))],
            next_page_token=_str(d.get("nextPageToken")) or None,
        )


@dataclass(frozen=True)
class Candidate:
    texts: list[str]
    role: str | None = None
    finish_reason: str | None = None
    index: int = 0

    @property
    def text(self) -> str:
        return "".join(self.texts)

    @classmethod
    def from_json(cls, data: object) -> Candidate:
        d = _dict(data)
        content = _dict(d.get("content"))
        parts = [_dict(p) for p in _list(content.get("parts"))]
        return cls(
            texts=[p["text"] for p in parts if isinstance(p.get("text"), str)],
            role=_str(content.get("role")),
            finish_reason=_str(d.get("finishReason")),
            index=_int(d.get("index"), 0) or 0,
        )


@dataclass(frozen=True)
class UsageMetadata:
    prompt_token_count: int = 0
    candidates_token_count: int = 0
    total_token_count: int = 0

    @classmethod
    def from_json(cls, data: object) -> UsageMetadata:
        d = _dict(data)
        return cls(
            prompt_token_count=_int(d.get("promptTokenCount"), 0) or 0,
            candidates_token_count=_int(d.get("candidatesTokenCount"), 0) or 0,
            total_token_count=_int(d.get("totalTokenCount"), 0) or 0,
        )


@dataclass(frozen=True)
class GenerateContentResponse:
    candidates: list[Candidate]
    usage_metadata: UsageMetadata | None = None
    model_version: str | None = None
    block_reason: str | None = None

    @property
    def text(self) -> str:
        """The first candidate's text parts joined; "" when the service gave no candidate."""
        return self.candidates[0].text if self.candidates else ""

    @classmethod
    def from_json(cls, data: object) -> GenerateContentResponse:
        d = _dict(data)
        return cls(
            candidates=[Candidate.from_json(c) for c in _list(d.get("candidates"))],
            usage_metadata=UsageMetadata.from_json(d["usageMetadata"]) if "usageMetadata" in d else None,
            model_version=_str(d.get("modelVersion")),
            block_reason=_str(_dict(d.get("promptFeedback")).get("blockReason")),
        )
