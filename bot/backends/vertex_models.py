"""The base models Vertex AI can tune, their limits and where they run: configuration.

Google changes this list often, so the defaults below (Google's supervised tuning page,
2026-09-25) can be replaced with `VERTEX_BASE_MODELS`: JSON, inline or in a file, a list
of objects with the fields of `VertexBaseModel` (only `name` is required), e.g.

    [{"name": "gemini-3.5-flash", "label": "Gemini 3.5 Flash",
      "tuning_regions": ["us-central1", "europe-west4"], "multi_region_serving": true},
     {"name": "gemini-2.5-pro", "adapter_sizes": [1, 2, 4, 8]}]

Pure: no I/O except reading that file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain.types import BaseModelChoice

DEFAULT_ADAPTER_SIZES = (1, 2, 4, 8, 16)
GEMINI_3_REGIONS = ("us-central1", "europe-west4")


@dataclass(frozen=True)
class VertexBaseModel:
    name: str
    label: str = ""
    adapter_sizes: tuple[int, ...] = DEFAULT_ADAPTER_SIZES
    max_example_tokens: int = 131_072
    max_validation_examples: int = 5000
    # Regions where it can be tuned; empty means wherever Vertex offers tuning.
    tuning_regions: tuple[str, ...] = ()
    # Served only from the `us`/`eu` multi-region host (Gemini 3.x), not the tuning region.
    multi_region_serving: bool = False
    preview: bool = False

    @property
    def choice(self) -> BaseModelChoice:
        label = self.label or self.name
        return BaseModelChoice(self.name, f"{label} (preview)" if self.preview else label)

    def region_refusal(self, location: str) -> str | None:
        """Why this model cannot be tuned in `location`, or None when it can."""
        if not self.tuning_regions or location in self.tuning_regions:
            return None
        regions = " or ".join(f"`{r}`" for r in self.tuning_regions)
        return (
            f"{self.label or self.name} can be tuned only in {regions}, and tunebot tunes in "
            f"`{location}` (VERTEX_LOCATION). Nothing was uploaded. Choose another base model, or "
            f"ask the operator to set VERTEX_LOCATION to {regions}."
        )

    def adapter_refusal(self, adapter_size: int | None) -> str | None:
        if adapter_size is None or adapter_size in self.adapter_sizes:
            return None
        sizes = ", ".join(str(s) for s in self.adapter_sizes)
        return (
            f"{self.label or self.name} supports adapter sizes {sizes}, not {adapter_size} "
            "(VERTEX_ADAPTER_SIZE). Nothing was uploaded."
        )


DEFAULT_VERTEX_MODELS: tuple[VertexBaseModel, ...] = (
    VertexBaseModel(
        "gemini-3.5-flash",
        "Gemini 3.5 Flash",
        tuning_regions=GEMINI_3_REGIONS,
        multi_region_serving=True,
    ),
    VertexBaseModel(
        "gemini-3.1-flash-lite",
        "Gemini 3.1 Flash-Lite",
        tuning_regions=GEMINI_3_REGIONS,
        multi_region_serving=True,
        preview=True,
    ),
    VertexBaseModel("gemini-2.5-pro", "Gemini 2.5 Pro", adapter_sizes=(1, 2, 4, 8)),
    VertexBaseModel("gemini-2.5-flash", "Gemini 2.5 Flash"),
    VertexBaseModel("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
)
DEFAULT_BASE_MODEL = "gemini-2.5-flash"


class ModelCatalogError(ValueError):
    """VERTEX_BASE_MODELS cannot be read; the message names the problem."""


@dataclass(frozen=True)
class VertexModelCatalog:
    models: tuple[VertexBaseModel, ...] = DEFAULT_VERTEX_MODELS
    default_name: str = DEFAULT_BASE_MODEL
    _by_name: dict[str, VertexBaseModel] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({m.name: m for m in self.models})

    @property
    def choices(self) -> tuple[BaseModelChoice, ...]:
        """The models in the order they are offered, the default first."""
        ordered = sorted(self.models, key=lambda m: m.name != self.default)
        return tuple(m.choice for m in ordered)

    @property
    def default(self) -> str:
        return self.default_name if self.default_name in self._by_name else self.models[0].name

    def get(self, name: str) -> VertexBaseModel | None:
        return self._by_name.get(name.removeprefix("publishers/google/models/"))


def load_catalog(raw: str | None, default_name: str | None = None) -> VertexModelCatalog:
    """The catalog from VERTEX_BASE_MODELS (inline JSON or a path to a JSON file), or the defaults."""
    models = parse_models(raw) if raw and raw.strip() else DEFAULT_VERTEX_MODELS
    return VertexModelCatalog(models, default_name or DEFAULT_BASE_MODEL)


def parse_models(raw: str) -> tuple[VertexBaseModel, ...]:
    text = raw.strip()
    if not text.startswith(("[", "{")):
        try:
            text = Path(text).read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelCatalogError(f"VERTEX_BASE_MODELS: cannot read {raw!r} ({exc.strerror})") from exc
    try:
        items = json.loads(text)
    except ValueError as exc:
        raise ModelCatalogError(f"VERTEX_BASE_MODELS is not valid JSON: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise ModelCatalogError("VERTEX_BASE_MODELS must be a non-empty JSON list of models")
    return tuple(_model(item, n) for n, item in enumerate(items, 1))


_FIELDS = {
    "name",
    "label",
    "adapter_sizes",
    "max_example_tokens",
    "max_validation_examples",
    "tuning_regions",
    "multi_region_serving",
    "preview",
}


def _model(item: Any, number: int) -> VertexBaseModel:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
        raise ModelCatalogError(f'VERTEX_BASE_MODELS item {number} needs a "name"')
    unknown = set(item) - _FIELDS
    if unknown:
        raise ModelCatalogError(
            f"VERTEX_BASE_MODELS item {number}: unknown fields {', '.join(sorted(unknown))}"
        )
    values = dict(item)
    for key in ("adapter_sizes", "tuning_regions"):
        if key in values:
            values[key] = tuple(_sequence(values[key], key, number))
    try:
        return VertexBaseModel(**values)
    except TypeError as exc:
        raise ModelCatalogError(f"VERTEX_BASE_MODELS item {number}: {exc}") from exc


def _sequence(value: Any, key: str, number: int) -> Sequence[Any]:
    if not isinstance(value, list):
        raise ModelCatalogError(f"VERTEX_BASE_MODELS item {number}: {key} must be a list")
    return value


def serving_region(location: str) -> str:
    """The multi-region (`us` or `eu`) a Gemini 3.x model tuned in `location` is served from."""
    return "eu" if location.startswith("europe") else "us"
