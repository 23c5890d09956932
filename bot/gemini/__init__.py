"""An async client for the Gemini API's model tuning service."""

from bot.gemini.client import DEFAULT_BASE_URL, GeminiClient, new_tuned_model_id, tuned_model_name
from bot.gemini.errors import GeminiAPIError, GeminiConnectionError
from bot.gemini.types import (
    GenerateContentResponse,
    Hyperparameters,
    Operation,
    OperationError,
    OperationMetadata,
    OperationPage,
    TunedModel,
    TunedModelPage,
    TuningExample,
    TuningSnapshot,
    TuningTask,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "GeminiAPIError",
    "GeminiClient",
    "GeminiConnectionError",
    "GenerateContentResponse",
    "Hyperparameters",
    "Operation",
    "OperationError",
    "OperationMetadata",
    "OperationPage",
    "TunedModel",
    "TunedModelPage",
    "TuningExample",
    "TuningSnapshot",
    "TuningTask",
    "new_tuned_model_id",
    "tuned_model_name",
]
