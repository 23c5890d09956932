"""The Vertex AI surface's state and what the resource modules share: clock, lock, storage."""

from __future__ import annotations

import fnmatch
from typing import Any

from standins.emulator.core.errors import ApiError, not_found
from standins.emulator.core.runtime import Runtime
from standins.emulator.storage.service import StorageService
from standins.emulator.vertex.state import CheckpointEndpoint, VertexJob, VertexState

CHECKPOINT_ID_STRIDE = 1_000_000


class VertexService:
    """Jobs on the shared emulator clock; training data is read from the emulated Cloud Storage."""

    def __init__(self, runtime: Runtime, storage: StorageService, *, step_seconds: float) -> None:
        self.runtime = runtime
        self.storage = storage
        self.lock = runtime.lock
        self.step_seconds = step_seconds
        self.state = VertexState(objects=storage.view())
        # The bodies of the generateContent calls answered, oldest first (tests read the
        # conversation a model was sent: its turns, systemInstruction and generationConfig).
        self.generate_requests: list[dict[str, Any]] = []
        # The bodies of the tuningJobs.create calls received, oldest first, refused ones too
        # (tests read what a create sent, e.g. its `preTunedModel`).
        self.create_requests: list[dict[str, Any]] = []

    def now(self) -> float:
        return self.runtime.now()

    def should_fail(self, display_name: str) -> bool:
        return any(fnmatch.fnmatchcase(display_name, p) for p in self.runtime.faults.fail_models)

    def endpoint_fails(self, display_name: str) -> bool:
        """Jobs whose endpoint creation fails (code 13; the model is still uploaded)."""
        patterns = self.runtime.faults.vertex_endpoint_failures
        return any(fnmatch.fnmatchcase(display_name, p) for p in patterns)

    def quota_wait(self, parent: str) -> float:
        """Seconds a new job in `parent`'s project waits for the concurrent-job quota
        (`EmulatorConfig.vertex_concurrent_jobs`), or a 429 when the quota refuses instead."""
        quota = self.runtime.config.vertex_concurrent_jobs
        if quota is None:
            return 0.0
        project = parent.split("/")[1]
        now = self.now()
        starts = now + self.step_seconds
        ends = sorted(
            job.end_time()
            for job in self.state.jobs.values()
            if job.parent.split("/")[1] == project and job.cancelled_at is None and job.end_time() > starts
        )
        if len(ends) < quota:
            return 0.0
        if self.runtime.config.vertex_quota_refuses:
            raise ApiError(
                429,
                "Quota exceeded for quota metric 'Global concurrent tuning jobs' and limit "
                f"'Global concurrent tuning jobs per project' of service 'aiplatform.googleapis.com' "
                f"for consumer 'project_number:{project}'.",
                status="RESOURCE_EXHAUSTED",
            )
        return max(0.0, ends[len(ends) - quota] - starts)

    def add_checkpoints(self, job: VertexJob) -> None:
        """Endpoint ids for the intermediate checkpoints (epochs before the last)."""
        if job.export_last_checkpoint_only:
            return
        for epoch in range(1, job.epochs):
            endpoint_id = job.id + CHECKPOINT_ID_STRIDE * epoch
            job.checkpoint_endpoints[epoch] = CheckpointEndpoint(endpoint_id)
            self.state.checkpoint_endpoints[endpoint_id] = (job.id, epoch)

    def live_endpoints(self, job_id: int) -> list[str]:
        """The job's endpoints that still exist (tests: nothing billable is left behind)."""
        with self.lock:
            job = self.state.jobs[job_id]
            if not job.has_model(self.now()):
                return []
            names = [job.endpoint] if job.main_endpoint_live else []
            names += [
                f"{job.serving_parent}/endpoints/{c.id}"
                for c in job.existing_checkpoints().values()
                if not c.deleted
            ]
            return names

    def reset(self) -> None:
        with self.lock:
            self.state = VertexState(objects=self.storage.view())

    def end_times(self) -> list[float]:
        with self.lock:
            return [j.end_time() for j in self.state.jobs.values() if j.cancelled_at is None]

    def job_ids(self) -> list[int]:
        with self.lock:
            return sorted(self.state.jobs)

    def object(self, bucket: str, name: str) -> bytes | None:
        return self.storage.read(bucket, name)

    def ready_job(self, parent: str, resource_id: str, offset: int, what: str) -> VertexJob:
        """The succeeded job whose model (offset 2) or endpoint (offset 1) has this id."""
        try:
            job = self.state.jobs.get(int(resource_id) - offset)
        except ValueError:
            job = None
        if job is None or job.serving_parent != parent or not job.has_model(self.now()):
            raise not_found(f"{what} {parent}/{what.lower()}s/{resource_id} is not found.")
        return job
