"""What the Vertex AI surface stores: tuning jobs and, derived from each, its model and endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

EXAMPLES_PER_STEP = 8
FIRST_JOB_ID = 4_000_000_000_000_000_000


@dataclass
class VertexJob:
    id: int
    parent: str
    base_model: str
    display_name: str
    description: str
    dataset_uri: str
    epochs: int
    multiplier: float
    adapter_size: str | None
    examples: list[tuple[str, str]]
    create_time: float
    step_seconds: float
    total_steps: int
    fail: bool = False
    cancelled_at: float | None = None
    endpoint_deployed: bool = True
    endpoint_deleted: bool = False
    model_deleted: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    validation_uri: str | None = None
    validation_examples: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.parent}/tuningJobs/{self.id}"

    @property
    def endpoint(self) -> str:
        return f"{self.parent}/endpoints/{self.id + 1}"

    @property
    def model(self) -> str:
        return f"{self.parent}/models/{self.id + 2}"

    def state(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "JOB_STATE_CANCELLED"
        running_at = self.create_time + self.step_seconds
        end = running_at + self.total_steps * self.step_seconds
        if now < running_at:
            return "JOB_STATE_PENDING"
        if self.fail and now >= running_at + self.total_steps * self.step_seconds / 2:
            return "JOB_STATE_FAILED"
        if now < end:
            return "JOB_STATE_RUNNING"
        return "JOB_STATE_SUCCEEDED"

    def end_time(self) -> float:
        return self.create_time + (self.total_steps + 1) * self.step_seconds


@dataclass
class VertexState:
    jobs: dict[int, VertexJob] = field(default_factory=dict)
    seq: int = 0
    objects: Mapping[tuple[str, str], bytes] = field(default_factory=dict)  # Cloud Storage, read-only
