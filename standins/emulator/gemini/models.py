"""The Gemini API's base models as the emulator lists them (`models.list`, `models.get`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BaseModel:
    id: str
    display_name: str
    description: str
    input_token_limit: int
    output_token_limit: int
    methods: tuple[str, ...]
    temperature: float
    top_p: float
    top_k: int
    version: str = "001"

    @property
    def name(self) -> str:
        return f"models/{self.id}"

    @property
    def tunable(self) -> bool:
        return "createTunedModel" in self.methods

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "baseModelId": self.id.removesuffix("-tuning").rsplit("-", 1)[0],
            "version": self.version,
            "displayName": self.display_name,
            "description": self.description,
            "inputTokenLimit": self.input_token_limit,
            "outputTokenLimit": self.output_token_limit,
            "supportedGenerationMethods": list(self.methods),
            "temperature": self.temperature,
            "topP": self.top_p,
            "topK": self.top_k,
            "maxTemperature": 2.0,
        }


BASE_MODELS: dict[str, BaseModel] = {
    m.name: m
    for m in (
        BaseModel(
            "gemini-1.0-pro-001",
            "Gemini 1.0 Pro 001 (Tuning)",
            "The best model for scaling across a wide range of tasks. This is a stable model that "
            "supports tuning.",
            30720,
            2048,
            ("generateContent", "countTokens", "createTunedModel"),
            0.9,
            1.0,
            1,
        ),
        BaseModel(
            "gemini-1.5-flash-001",
            "Gemini 1.5 Flash 001",
            "Fast and versatile multimodal model for scaling across diverse tasks.",
            1048576,
            8192,
            ("generateContent", "countTokens", "createCachedContent"),
            1.0,
            0.95,
            64,
        ),
        BaseModel(
            "gemini-1.5-flash-001-tuning",
            "Gemini 1.5 Flash 001 Tuning",
            "Version of Gemini 1.5 Flash that supports tuning, our fast and versatile multimodal model "
            "for scaling across diverse tasks, released in May of 2024.",
            16384,
            8192,
            ("generateContent", "countTokens", "createTunedModel"),
            1.0,
            0.95,
            64,
        ),
    )
}


def tunable() -> list[str]:
    return [m.name for m in BASE_MODELS.values() if m.tunable]
