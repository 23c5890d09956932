"""The tuning vocabulary every layer shares: examples, jobs, progress, models.

Nothing here knows whether the Gemini API or Vertex AI does the tuning, nor how Slack
shows it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    LOST = "lost"

    @property
    def finished(self) -> bool:
        return self not in (JobState.QUEUED, JobState.RUNNING)


@dataclass(frozen=True)
class LossPoint:
    step: int
    epoch: int
    mean_loss: float


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """One tuning example: an optional system instruction, then turns that alternate user,
    model, user, model… and end with a model turn. An input/output pair is the one-turn case.

    Kept compact (a dataset may hold millions): `text_input` is the last user turn, `output`
    the model turn that answers it (the turn an evaluation scores) and `history` the texts
    of the turns before them, alternating user, model, starting with a user turn.
    """

    text_input: str
    output: str
    history: tuple[str, ...] = ()
    system: str | None = None

    @property
    def turns(self) -> tuple[Turn, ...]:
        """Every turn in order, the last one the model's answer."""
        texts = (*self.history, self.text_input, self.output)
        return tuple(Turn("user" if i % 2 == 0 else "model", text) for i, text in enumerate(texts))

    @property
    def turn_count(self) -> int:
        """User turns (each answered by a model turn): 1 for an input/output pair."""
        return len(self.history) // 2 + 1

    @property
    def multi_turn(self) -> bool:
        return bool(self.history)

    def context(self) -> Conversation:
        """What comes before the last user turn: the earlier turns and the system instruction
        (what a model is given to answer `text_input` as the example's last model turn)."""
        earlier = tuple(Turn("user" if i % 2 == 0 else "model", t) for i, t in enumerate(self.history))
        return Conversation(earlier, self.system)


@dataclass(frozen=True)
class ExampleShape:
    """What a dataset's examples hold beyond input/output pairs (stored with the dataset)."""

    multi_turn: int = 0  # examples with earlier turns
    with_system: int = 0  # examples with a system instruction
    system_instruction: str | None = None  # the one most examples share
    max_tokens: int | None = None  # the largest example, estimated

    @property
    def conversational(self) -> bool:
        return bool(self.multi_turn or self.with_system)


@dataclass(frozen=True)
class TuningRequest:
    display_name: str
    base_model: str
    examples: Sequence[TrainingExample]
    # The Gemini API's options (Vertex AI takes `epoch_count` and ignores the other two);
    # None: the service chooses.
    epoch_count: int | None
    batch_size: int | None
    learning_rate: float | None
    description: str | None = None
    model_id: str | None = None
    # Held out of `examples` for validation; a backend without validation sets ignores it.
    validation_examples: Sequence[TrainingExample] = ()
    # Vertex AI's options; None: the backend's configured default, else Vertex's own.
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None
    export_last_checkpoint_only: bool | None = None
    # A dataset read in place from Cloud Storage: Vertex AI reads it from this URI (and
    # `examples` / `validation_examples` are not uploaded in its place).
    training_uri: str | None = None
    validation_uri: str | None = None
    # Continued tuning (Vertex AI's `preTunedModel`): the tuned model to start from (the
    # backend's model name, e.g. its tuning job) and, optionally, which of its checkpoints.
    pre_tuned_model: str | None = None
    pre_tuned_checkpoint: str | None = None


@dataclass(frozen=True)
class SentHyperparameters:
    """What a Vertex AI tuning job received, by Vertex's names, read back from the job
    resource Vertex answers with (never re-derived from what was asked). None: not set on the
    job (Vertex chooses; an epoch count Vertex chose appears here once the job reports it)."""

    epoch_count: int | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None  # 1, 2, 4, … (Vertex's ADAPTER_SIZE_* enum)
    export_last_checkpoint_only: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> SentHyperparameters | None:
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        epochs, multiplier, adapter = (
            data.get("epoch_count"),
            data.get("learning_rate_multiplier"),
            data.get("adapter_size"),
        )
        return cls(
            epoch_count=epochs if isinstance(epochs, int) else None,
            learning_rate_multiplier=float(multiplier) if isinstance(multiplier, int | float) else None,
            adapter_size=adapter if isinstance(adapter, int) else None,
            export_last_checkpoint_only=data.get("export_last_checkpoint_only") is True,
        )


@dataclass(frozen=True)
class StartedJob:
    model_name: str
    operation_name: str
    total_steps: int | None = None
    # Where the backend received the validation set, when it takes one.
    validation_uri: str | None = None
    # What Vertex AI's answer to the create says the job received (Vertex only).
    hyperparameters: SentHyperparameters | None = None


@dataclass(frozen=True)
class DataStats:
    """What the service counted in the training data (Vertex `supervisedTuningDataStats`)."""

    examples: int | None = None
    billable_tokens: int | None = None
    truncated_examples: int | None = None
    dropped_reasons: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(
            {
                "examples": self.examples,
                "billable_tokens": self.billable_tokens,
                "truncated_examples": self.truncated_examples,
                "dropped_reasons": list(self.dropped_reasons),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> DataStats | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(
            examples=data.get("examples"),
            billable_tokens=data.get("billable_tokens"),
            truncated_examples=data.get("truncated_examples"),
            dropped_reasons=tuple(data.get("dropped_reasons") or ()),
        )


@dataclass(frozen=True)
class Checkpoint:
    """A tuned model saved after an epoch; it can be tried on its own endpoint."""

    checkpoint_id: str
    epoch: int | None = None
    step: int | None = None
    endpoint: str | None = None
    eval_loss: float | None = None


def checkpoints_json(checkpoints: Sequence[Checkpoint]) -> str | None:
    if not checkpoints:
        return None
    return json.dumps([asdict(c) for c in checkpoints], sort_keys=True)


def checkpoints_from_json(text: str | None) -> tuple[Checkpoint, ...]:
    if not text:
        return ()
    return tuple(Checkpoint(**item) for item in json.loads(text))


def final_point(points: Sequence[LossPoint]) -> LossPoint | None:
    """The point a loss series ends on (the last step with a finite loss): what the chart marks
    as the final loss, and what a finished job's messages show."""
    drawable = sorted((p for p in points if math.isfinite(p.mean_loss)), key=lambda p: p.step)
    return drawable[-1] if drawable else None


@dataclass(frozen=True)
class LossCurves:
    """The loss series for a chart: training, and evaluation when there is a validation set."""

    train: tuple[LossPoint, ...] = ()
    eval: tuple[LossPoint, ...] = ()
    # The checkpoints, each with the eval loss at its step when the eval series has one.
    checkpoints: tuple[Checkpoint, ...] = ()


@dataclass(frozen=True)
class JobProgress:
    state: JobState
    percent: float = 0.0
    completed_steps: int | None = None
    total_steps: int | None = None
    epoch: int | None = None
    loss_points: tuple[LossPoint, ...] = ()
    error_message: str | None = None
    # Reported by Vertex AI (all optional; the Gemini API reports none of them).
    detail_state: str | None = None  # waiting_for_quota, processing_dataset, paused, …
    current_loss: float | None = None  # latest training loss when no points are carried
    eval_loss: float | None = None
    started_at: datetime | None = None
    data_stats: DataStats | None = None
    checkpoints: tuple[Checkpoint, ...] = ()
    tuned_model: str | None = None
    error_code: int | None = None
    # The complete loss series, read once the job has ended (Vertex AI): the chart draws them,
    # and `current_loss` / `eval_loss` are their last points.
    curves: LossCurves | None = None
    hyperparameters: SentHyperparameters | None = None  # as the job resource reports them

    @property
    def mean_loss(self) -> float | None:
        return self.loss_points[-1].mean_loss if self.loss_points else self.current_loss


class ModelState(StrEnum):
    TUNING = "tuning"
    READY = "ready"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ModelSummary:
    name: str
    display_name: str
    state: ModelState
    base_model: str
    created_at: datetime | None = None
    checkpoints: tuple[Checkpoint, ...] = ()  # those a try can ask (Vertex keeps one an epoch)


@dataclass(frozen=True)
class ModelPage:
    models: list[ModelSummary]
    next_page_token: str | None = None


@dataclass(frozen=True)
class BaseModelChoice:
    name: str
    label: str


@dataclass(frozen=True)
class Turn:
    """One turn of a try or compare thread: what a person asked ("user") or a model answered ("model")."""

    role: str
    text: str


@dataclass(frozen=True)
class GenerationSettings:
    """generationConfig for answers in try and compare threads (None: the service's default).

    `thinking_budget` None means the smallest the base model allows (Google's advice for tuned
    models: 0 on 2.5 Flash / Flash-Lite, 128 on 2.5 Pro, thinking level MINIMAL / LOW on 3.x)."""

    temperature: float | None = None
    top_p: float | None = None
    max_output_tokens: int | None = None
    thinking_budget: int | None = None


@dataclass(frozen=True)
class Conversation:
    """What a model is sent besides the newest prompt: the thread's earlier turns (oldest first)
    and its system instruction."""

    history: tuple[Turn, ...] = ()
    system: str | None = None


def contents_of(prompt: str, conversation: Conversation | None) -> list[dict[str, object]]:
    """generateContent `contents`: the earlier turns in order, then the prompt as a user turn."""
    turns = [*(conversation.history if conversation else ()), Turn("user", prompt)]
    return [{"role": t.role, "parts": [{"text": t.text}]} for t in turns]


def system_instruction_of(conversation: Conversation | None) -> dict[str, object] | None:
    """generateContent `systemInstruction`, or None."""
    if conversation is None or not conversation.system:
        return None
    return {"parts": [{"text": conversation.system}]}


def smallest_thinking(base_model: str) -> dict[str, object] | None:
    """thinkingConfig at the smallest the base model allows (None: one without thinking)."""
    short = base_model.rsplit("/", 1)[-1].lower()
    if short.startswith("gemini-2.5"):
        return {"thinkingBudget": 128 if "pro" in short else 0}
    if short.startswith("gemini-3"):
        return {"thinkingLevel": "LOW" if "pro" in short else "MINIMAL"}
    return None


def json_generation_config(schema: Mapping[str, Any]) -> dict[str, object]:
    """generationConfig asking a model for JSON of `schema`, at temperature 0 (a judge)."""
    return {"temperature": 0.0, "responseMimeType": "application/json", "responseSchema": dict(schema)}


def generation_config(settings: GenerationSettings, base_model: str | None) -> dict[str, object]:
    """generationConfig for a tuned model on `base_model` (None: the base itself, no thinking change)."""
    config: dict[str, object] = {}
    if settings.temperature is not None:
        config["temperature"] = settings.temperature
    if settings.top_p is not None:
        config["topP"] = settings.top_p
    if settings.max_output_tokens is not None:
        config["maxOutputTokens"] = settings.max_output_tokens
    if settings.thinking_budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": settings.thinking_budget}
    elif base_model:
        thinking = smallest_thinking(base_model)
        if thinking:
            config["thinkingConfig"] = thinking
    return config
