"""The interface every tuning service implements for tunebot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.domain.types import (
    BaseModelChoice,
    Conversation,
    JobProgress,
    LossCurves,
    ModelPage,
    ModelSummary,
    StartedJob,
    TuningRequest,
)


class TuningBackend(Protocol):
    """What the Slack surface and the poller need from a tuning service."""

    name: str
    # Whether the service takes a validation set (and reports an eval loss on it).
    supports_validation: bool
    # Whether it tunes further from a tuned model or one of its checkpoints (`from=`).
    supports_continuing: bool
    # The tuning options of `/tune start` it takes (`epochs`, `batch_size`, `learning_rate`,
    # `learning_rate_multiplier`, `adapter_size`, `export_last_checkpoint_only`).
    options: frozenset[str]
    # Whether it can stop a running job and keep what it made (`cancel`): Vertex AI can; the
    # Gemini API only stops a job by deleting its model.
    supports_cancel: bool

    @property
    def base_models(self) -> tuple[BaseModelChoice, ...]: ...

    @property
    def default_base_model(self) -> str: ...

    @property
    def default_judge_model(self) -> str:
        """The base model that judges evaluations when TUNEBOT_JUDGE_MODEL is not set."""
        ...

    def start_refusal(self, base_model: str, adapter_size: int | None = None) -> str | None:
        """Why a job on `base_model` cannot start with this configuration (checked before
        anything is uploaded), or None."""
        ...

    def adapter_sizes(self, base_model: str) -> tuple[int, ...] | None:
        """The adapter sizes `base_model` allows here (None: not known, Vertex checks)."""
        ...

    def max_example_tokens(self, base_model: str) -> int | None:
        """The tokens one training example of `base_model` may hold, every turn and the
        system instruction together (None: no such limit, or not known)."""
        ...

    def model_name(self, text: str) -> str:
        """What a user typed (an id, a full name, a pasted link) -> the service's model name.

        Raises ValueError with a message fit for Slack when it cannot be one.
        """
        ...

    def new_model_id(self, display_name: str) -> str:
        """A fresh id chosen by tunebot, so a retried create cannot make two models."""
        ...

    async def start(self, request: TuningRequest) -> StartedJob: ...

    async def find_started(self, request_id: str) -> StartedJob | None:
        """What a create sent with `request_id` (the `model_id` of its TuningRequest) made,
        or None if the service has nothing for it: how a job whose process died between
        the create and recording its answer is found again."""
        ...

    async def poll(self, operation_name: str) -> JobProgress: ...

    async def loss_curves(self, operation_name: str) -> LossCurves:
        """The loss points for a chart (training, and eval with a validation set)."""
        ...

    async def generate(
        self,
        model_name: str,
        prompt: str,
        *,
        checkpoint: str | None = None,
        conversation: Conversation | None = None,
    ) -> str:
        """Ask the tuned model (or one of its checkpoints), after the conversation's earlier
        turns and with its system instruction."""
        ...

    async def generate_base(
        self, base_model: str, prompt: str, *, conversation: Conversation | None = None
    ) -> str:
        """The untuned base model's answer (to compare a tuned model with)."""
        ...

    async def generate_json(
        self, base_model: str, prompt: str, *, instructions: str, schema: Mapping[str, Any]
    ) -> str:
        """A base model's answer as JSON text (the judge of an evaluation): `instructions` as
        its system instruction, asked for `schema` (generationConfig responseMimeType
        application/json and responseSchema), at temperature 0."""
        ...

    async def list_models(self, *, page_size: int, page_token: str | None = None) -> ModelPage: ...

    async def get_model(self, model_name: str) -> ModelSummary: ...

    async def delete_model(self, model_name: str) -> None: ...

    async def cancel(self, operation_name: str) -> None:
        """Stop a running job and keep what it made so far (Vertex AI: its checkpoints).
        Raises BackendError: status FAILED_PRECONDITION when the job had already ended,
        UNIMPLEMENTED when the service cannot stop a job without deleting its model."""
        ...

    async def aclose(self) -> None: ...
