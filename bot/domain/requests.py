"""What a person asked for, once parsed (from `/tune start …` or the start form)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationChoice:
    """`validation=10%` (hold out a share of the dataset) or `validation=<dataset>`."""

    percent: float | None = None
    dataset: str | None = None

    @property
    def label(self) -> str:
        return f"{self.percent:g}%" if self.percent is not None else f"dataset {self.dataset}"


@dataclass(frozen=True)
class StartArgs:
    dataset: str
    display_name: str | None
    epoch_count: int
    batch_size: int
    learning_rate: float
    base_model: str | None
    validation: ValidationChoice | None = None
