"""The Gemini API (`tunedModels` + operations) as a TuningBackend."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from bot.backends.errors import translated_errors
from bot.domain.errors import BackendError
from bot.domain.text import escape_truncated
from bot.domain.types import (
    BaseModelChoice,
    Conversation,
    GenerationSettings,
    JobProgress,
    JobState,
    LossCurves,
    LossPoint,
    ModelPage,
    ModelState,
    ModelSummary,
    StartedJob,
    TuningRequest,
    contents_of,
    generation_config,
    json_generation_config,
    system_instruction_of,
)
from bot.gemini import GeminiClient, Operation, TuningExample, new_tuned_model_id
from bot.gemini.types import TunedModel, TuningSnapshot

T = TypeVar("T")

GEMINI_JUDGE_MODEL = "models/gemini-1.5-flash-001"
GEMINI_BASE_MODELS = (BaseModelChoice("models/gemini-1.5-flash-001-tuning", "Gemini 1.5 Flash 001 (tuning)"),)

_MODEL_ID = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")

MODEL_STATES = {"CREATING": ModelState.TUNING, "ACTIVE": ModelState.READY, "FAILED": ModelState.FAILED}


def loss_points(snapshots: list[TuningSnapshot]) -> tuple[LossPoint, ...]:
    return tuple(
        LossPoint(step=s.step, epoch=s.epoch or 0, mean_loss=s.mean_loss)
        for s in snapshots
        if s.mean_loss is not None
    )


def progress_from_operation(operation: Operation) -> JobProgress:
    """A pure translation of a long-running operation into backend-neutral progress."""
    meta = operation.metadata
    points = loss_points(meta.snapshots) if meta else ()
    total = meta.total_steps if meta else None
    completed = meta.completed_steps if meta else None
    percent = meta.completed_percent if meta and meta.completed_percent is not None else 0.0
    epoch = points[-1].epoch if points else None
    if operation.error is not None:
        return JobProgress(
            state=JobState.FAILED,
            percent=percent,
            completed_steps=completed,
            total_steps=total,
            epoch=epoch,
            loss_points=points,
            error_message=operation.error.message or f"tuning failed (code {operation.error.code})",
        )
    if operation.done:
        return JobProgress(
            state=JobState.SUCCEEDED,
            percent=100.0,
            completed_steps=total if total is not None else completed,
            total_steps=total,
            epoch=epoch,
            loss_points=points,
        )
    state = JobState.RUNNING if (completed or 0) > 0 else JobState.QUEUED
    return JobProgress(state, percent, completed, total, epoch, points)


def summary_from_model(model: TunedModel) -> ModelSummary:
    return ModelSummary(
        name=model.name,
        display_name=model.display_name or model.name.removeprefix("tunedModels/"),
        state=MODEL_STATES.get(model.state or "", ModelState.UNKNOWN),
        base_model=model.base_model or "",
        created_at=model.create_time,
    )


# What `/tune start` sends the Gemini API for an option left out.
DEFAULT_EPOCHS = 5
DEFAULT_BATCH_SIZE = 2
DEFAULT_LEARNING_RATE = 0.001


class GeminiBackend:
    """Tuning through the Gemini API's `tunedModels` and long-running operations."""

    name = "gemini"
    # tunedModels.create has no validation set: held-out examples stay in tunebot.
    supports_validation = False
    supports_continuing = False  # the Gemini API has no continued tuning
    supports_cancel = False
    options = frozenset({"epochs", "batch_size", "learning_rate"})

    def __init__(self, client: GeminiClient, *, generation: GenerationSettings | None = None) -> None:
        self.client = client
        self.generation = generation or GenerationSettings()

    @classmethod
    def from_settings(
        cls, api_key: str, base_url: str, *, generation: GenerationSettings | None = None
    ) -> GeminiBackend:
        return cls(GeminiClient(api_key, base_url=base_url), generation=generation)

    @property
    def base_models(self) -> tuple[BaseModelChoice, ...]:
        return GEMINI_BASE_MODELS

    @property
    def default_base_model(self) -> str:
        return GEMINI_BASE_MODELS[0].name

    @property
    def default_judge_model(self) -> str:
        """A general base model (the tuning variant is meant for tuning, not judging)."""
        return GEMINI_JUDGE_MODEL

    def start_refusal(self, base_model: str, adapter_size: int | None = None) -> str | None:
        return None

    def adapter_sizes(self, base_model: str) -> tuple[int, ...] | None:
        return ()  # the Gemini API has no adapter size

    def max_example_tokens(self, base_model: str) -> int | None:
        return None  # its limits are in characters (bot.datasets.limits.GEMINI_LIMITS)

    def model_name(self, text: str) -> str:
        candidate = text.strip().strip("`<>").rstrip("/")
        if "tunedModels/" in candidate:
            candidate = candidate.rsplit("tunedModels/", 1)[1]
        candidate = candidate.split("/", 1)[0].split(":", 1)[0]
        if not _MODEL_ID.match(candidate):
            raise ValueError(
                f"`{escape_truncated(candidate, 80)}` "
                "is not a tuned model id (lowercase letters, digits and dashes, such as "
                "`number-generator-model-x8k2p`). `/tune list` shows the models."
            )
        return f"tunedModels/{candidate}"

    def new_model_id(self, display_name: str) -> str:
        return new_tuned_model_id(display_name, suffix_length=8)

    async def start(self, request: TuningRequest) -> StartedJob:
        operation = await self._call(
            lambda: self.client.create_tuned_model(
                display_name=request.display_name,
                base_model=request.base_model,
                examples=[TuningExample(text_input=p.text_input, output=p.output) for p in request.examples],
                epoch_count=request.epoch_count or DEFAULT_EPOCHS,
                batch_size=request.batch_size or DEFAULT_BATCH_SIZE,
                learning_rate=request.learning_rate or DEFAULT_LEARNING_RATE,
                description=request.description,
                tuned_model_id=request.model_id,
            )
        )
        meta = operation.metadata
        model_name = meta.tuned_model if meta and meta.tuned_model else f"tunedModels/{request.model_id}"
        return StartedJob(
            model_name=model_name,
            operation_name=operation.name,
            total_steps=meta.total_steps if meta else None,
        )

    async def find_started(self, request_id: str) -> StartedJob | None:
        """The model a create with tuned model id `request_id` made, if the service has it."""
        model_name = f"tunedModels/{request_id}"
        try:
            operation = await self._call(lambda: self.client.find_creation(model_name))
        except BackendError as exc:
            if exc.not_found:
                return None
            raise
        meta = operation.metadata
        return StartedJob(
            model_name=model_name,
            operation_name=operation.name,
            total_steps=meta.total_steps if meta else None,
        )

    async def poll(self, operation_name: str) -> JobProgress:
        operation = await self._call(lambda: self.client.get_operation(operation_name))
        return progress_from_operation(operation)

    async def loss_curves(self, operation_name: str) -> LossCurves:
        return LossCurves(train=(await self.poll(operation_name)).loss_points)

    async def generate(
        self,
        model_name: str,
        prompt: str,
        *,
        checkpoint: str | None = None,
        conversation: Conversation | None = None,
    ) -> str:
        if checkpoint is not None:
            raise BackendError("the Gemini API keeps no checkpoints of a tuned model", code=400)
        return await self._generate(model_name, prompt, conversation)

    async def generate_base(
        self, base_model: str, prompt: str, *, conversation: Conversation | None = None
    ) -> str:
        name = base_model if base_model.startswith("models/") else f"models/{base_model}"
        return await self._generate(name, prompt, conversation)

    async def _generate(self, name: str, prompt: str, conversation: Conversation | None) -> str:
        contents = contents_of(prompt, conversation) if conversation else prompt
        system = system_instruction_of(conversation)
        config = generation_config(self.generation, None)
        result = await self._call(
            lambda: self.client.generate_content(
                name, contents, system_instruction=system, generation_config=config or None
            )
        )
        return result.text

    async def generate_json(
        self, base_model: str, prompt: str, *, instructions: str, schema: Mapping[str, Any]
    ) -> str:
        """models.generateContent asked for JSON (responseMimeType and responseSchema)."""
        name = base_model if base_model.startswith("models/") else f"models/{base_model}"
        result = await self._call(
            lambda: self.client.generate_content(
                name,
                prompt,
                system_instruction={"parts": [{"text": instructions}]},
                generation_config=json_generation_config(schema),
            )
        )
        return result.text

    async def list_models(self, *, page_size: int, page_token: str | None = None) -> ModelPage:
        page = await self._call(
            lambda: self.client.list_tuned_models(page_size=page_size, page_token=page_token)
        )
        return ModelPage([summary_from_model(m) for m in page.tuned_models], page.next_page_token)

    async def get_model(self, model_name: str) -> ModelSummary:
        return summary_from_model(await self._call(lambda: self.client.get_tuned_model(model_name)))

    async def delete_model(self, model_name: str) -> None:
        await self._call(lambda: self.client.delete_tuned_model(model_name))

    async def cancel(self, operation_name: str) -> None:
        """The Gemini API's tuning has no cancel: a tuning model stops only when it is deleted."""
        raise BackendError(
            "the Gemini API cannot stop a tuning job and keep its model: deleting the model "
            "(`/tune delete`) is the only way to stop it",
            code=501,
            status="UNIMPLEMENTED",
        )

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        async with translated_errors():
            return await request()
