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
    undeploy_time: float | None = None
    learning_rate: float | None = None
    batch_size: int | None = None
    validation_uri: str | None = None
    validation_examples: list[tuple[str, str]] = field(default_factory=list)
    export_last_checkpoint_only: bool = False

    @property
    def name(self) -> str:
        return f"{self.parent}/tuningJobs/{self.id}"

    @property
    def endpoint(self) -> str:
        return f"{self.parent}/endpoints/{self.id + 1}"

    @property
    def model(self) -> str:
        return f"{self.parent}/models/{self.id + 2}"

    @property
    def deployed_model_id(self) -> str:
        return str(self.id + 3)

    @property
    def running_at(self) -> float:
        return self.create_time + self.step_seconds

    @property
    def fails_at(self) -> float:
        return self.running_at + self.total_steps * self.step_seconds / 2

    def state(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "JOB_STATE_CANCELLED"
        if now < self.running_at:
            return "JOB_STATE_PENDING"
        if self.fail and now >= self.fails_at:
            return "JOB_STATE_FAILED"
        if now < self.succeeds_at():
            return "JOB_STATE_RUNNING"
        return "JOB_STATE_SUCCEEDED"

    def succeeds_at(self) -> float:
        return self.create_time + (self.total_steps + 1) * self.step_seconds

    def end_time(self) -> float:
        """When the job ended, or will end unless cancelled (cancel, failure or success)."""
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.fails_at if self.fail else self.succeeds_at()

    def update_time(self, now: float) -> float:
        """The time of the job's last change of state."""
        state = self.state(now)
        if state == "JOB_STATE_PENDING":
            return self.create_time
        if state == "JOB_STATE_RUNNING":
            return self.running_at
        return self.end_time()


@dataclass
class VertexOperation:
    """A finished long-running operation (undeployModel, a delete): kept for operations.get."""

    id: int
    parent: str
    metadata_type: str  # UndeployModelOperationMetadata or DeleteOperationMetadata
    response_type: str | None  # e.g. UndeployModelResponse; None: google.protobuf.Empty
    create_time: float

    @property
    def name(self) -> str:
        return f"{self.parent}/operations/{self.id}"


@dataclass
class VertexState:
    jobs: dict[int, VertexJob] = field(default_factory=dict)
    operations: dict[int, VertexOperation] = field(default_factory=dict)
    seq: int = 0
    objects: Mapping[tuple[str, str], bytes] = field(default_factory=dict)  # Cloud Storage, read-only
