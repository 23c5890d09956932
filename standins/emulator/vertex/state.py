"""What the Vertex AI surface stores: tuning jobs and, derived from each, its model and endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from standins.emulator.core.generation import Example

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
    examples: list[Example]
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
    validation_examples: list[Example] = field(default_factory=list)
    export_last_checkpoint_only: bool = False
    # The tuned model and its endpoints live here (Gemini 3.x: the `us`/`eu` multi-region).
    serving_parent: str = ""
    # Seconds the job waits for the concurrent-job quota after it starts RUNNING.
    quota_wait: float = 0.0
    # Fails with code 13 after tuning: the model is uploaded, its endpoint never created.
    endpoint_failure: bool = False
    billable_tokens: int = 0
    epochs_chosen: bool = False  # no epochCount was sent: the emulator chose `epochs`
    checkpoint_endpoints: dict[int, CheckpointEndpoint] = field(default_factory=dict)  # by epoch
    # Read from the training file: user messages and estimated tokens per example.
    user_turns: list[int] = field(default_factory=list)
    input_tokens: list[int] = field(default_factory=list)
    output_tokens: list[int] = field(default_factory=list)
    # The first problem in the training or validation file: the job fails with it once its
    # dataset step (TUNING_JOB_STATE_PROCESSING_DATASET) ends, before any tuning step.
    dataset_error: str | None = None
    # Continued tuning (`preTunedModel`): the parent's Model Registry name and checkpoint, and
    # what the parent had learnt (its examples and its own parents'), which this model keeps.
    pre_tuned_model: str | None = None
    pre_tuned_checkpoint: str | None = None
    inherited_examples: list[Example] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.serving_parent:
            self.serving_parent = self.parent

    @property
    def name(self) -> str:
        return f"{self.parent}/tuningJobs/{self.id}"

    @property
    def learnt(self) -> list[Example]:
        """What the tuned model answers from: its own examples first, then its parents'."""
        return [*self.examples, *self.inherited_examples]

    @property
    def endpoint(self) -> str:
        return f"{self.serving_parent}/endpoints/{self.id + 1}"

    @property
    def model(self) -> str:
        return f"{self.serving_parent}/models/{self.id + 2}"

    @property
    def deployed_model_id(self) -> str:
        return str(self.id + 3)

    @property
    def running_at(self) -> float:
        return self.create_time + self.step_seconds

    @property
    def tuning_at(self) -> float:
        """When the first step starts: after any wait for quota and one step preparing the data."""
        return self.running_at + self.quota_wait + self.step_seconds

    @property
    def tuned_at(self) -> float:
        return self.tuning_at + self.total_steps * self.step_seconds

    @property
    def fails_at(self) -> float:
        if self.dataset_error:
            return self.tuning_at
        if self.endpoint_failure:
            return self.succeeds_at()
        return self.tuning_at + self.total_steps * self.step_seconds / 2

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

    def sub_state(self, now: float) -> str | None:
        """`tuningJobState` (v1beta1) while the job runs."""
        if self.state(now) != "JOB_STATE_RUNNING":
            return None
        if now < self.running_at + self.quota_wait:
            return "TUNING_JOB_STATE_WAITING_FOR_QUOTA"
        if now < self.tuning_at:
            return "TUNING_JOB_STATE_PROCESSING_DATASET"
        if now < self.tuned_at:
            return "TUNING_JOB_STATE_TUNING"
        return "TUNING_JOB_STATE_POST_PROCESSING"

    def step_at(self, now: float) -> int:
        """Steps done by `now` (they stop where the job was cancelled or failed)."""
        end = min(now, self.end_time()) if self.cancelled_at is not None or self.fail else now
        if self.step_seconds <= 0:
            return self.total_steps if end >= self.tuning_at else 0
        return max(0, min(self.total_steps, int((end - self.tuning_at) // self.step_seconds)))

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.total_steps // max(1, self.epochs))

    def succeeds_at(self) -> float:
        """Tuning, then one step of post-processing (saving the model, deploying its endpoint)."""
        return self.tuned_at + self.step_seconds

    def end_time(self) -> float:
        """When the job ended, or will end unless cancelled (cancel, failure or success)."""
        if self.cancelled_at is not None:
            return self.cancelled_at
        return self.fails_at if self.fail else self.succeeds_at()

    def has_model(self, now: float) -> bool:
        """Succeeded, failed only in creating the endpoint (the model is in the registry), or
        cancelled after finishing an epoch that kept a checkpoint (`kept_epochs`)."""
        state = self.state(now)
        if state == "JOB_STATE_CANCELLED":
            return bool(self.kept_epochs())
        return state == "JOB_STATE_SUCCEEDED" or (state == "JOB_STATE_FAILED" and self.endpoint_failure)

    def kept_epochs(self) -> list[int]:
        """A cancelled job keeps the checkpoints (and their endpoints) of the epochs it finished
        before the cancel; the last epoch's checkpoint, which shares the job's own endpoint, is
        never reached, so a cancelled job has no main endpoint."""
        if self.cancelled_at is None:
            return []
        done = self.step_at(self.cancelled_at)
        return [epoch for epoch in sorted(self.checkpoint_endpoints) if epoch * self.steps_per_epoch <= done]

    def existing_checkpoints(self) -> dict[int, CheckpointEndpoint]:
        """The intermediate checkpoints' endpoints that were ever made, by epoch (a cancelled
        job's: only those of `kept_epochs`)."""
        if self.cancelled_at is None:
            return dict(self.checkpoint_endpoints)
        kept = self.kept_epochs()
        return {epoch: c for epoch, c in self.checkpoint_endpoints.items() if epoch in kept}

    @property
    def main_endpoint_live(self) -> bool:
        """The job's own endpoint exists (a cancelled job never gets one)."""
        return not self.endpoint_deleted and not self.endpoint_failure and self.cancelled_at is None

    def update_time(self, now: float) -> float:
        """The time of the job's last change of state."""
        state = self.state(now)
        if state == "JOB_STATE_PENDING":
            return self.create_time
        if state == "JOB_STATE_RUNNING":
            return self.running_at
        return self.end_time()


@dataclass
class CheckpointEndpoint:
    """The endpoint of an intermediate checkpoint (the last one shares the job's endpoint)."""

    id: int
    deployed: bool = True
    deleted: bool = False
    undeploy_time: float | None = None


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
    checkpoint_endpoints: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (job, epoch)
