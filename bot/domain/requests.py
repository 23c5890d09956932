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
    """What was asked; None where an option was left out (the backend's default applies).

    `epoch_count`, `batch_size` and `learning_rate` are the Gemini API's options;
    `learning_rate_multiplier`, `adapter_size` and `export_last_checkpoint_only` are Vertex
    AI's (which also takes `epoch_count`, and picks one for the dataset size without it).
    """

    dataset: str
    display_name: str | None
    epoch_count: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    base_model: str | None = None
    validation: ValidationChoice | None = None
    learning_rate_multiplier: float | None = None
    adapter_size: int | None = None
    export_last_checkpoint_only: bool | None = None
    # `from=<model> [checkpoint=N]`: tune further from a tuned model (Vertex AI's
    # `preTunedModel`), or from one of its checkpoints.
    from_model: str | None = None
    from_checkpoint: str | None = None

    @property
    def given(self) -> tuple[str, ...]:
        """The tuning options that were typed, by their option names."""
        values = {
            "epochs": self.epoch_count,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "learning_rate_multiplier": self.learning_rate_multiplier,
            "adapter_size": self.adapter_size,
            "export_last_checkpoint_only": self.export_last_checkpoint_only,
        }
        return tuple(name for name, value in values.items() if value is not None)
