"""The Vertex AI surface's state and what the resource modules share: clock, lock, storage."""

from __future__ import annotations

import fnmatch

from bot.emulator.core.errors import not_found
from bot.emulator.core.runtime import Runtime
from bot.emulator.storage.service import StorageService
from bot.emulator.vertex.state import VertexJob, VertexState


class VertexService:
    """Jobs on the shared emulator clock; training data is read from the emulated Cloud Storage."""

    def __init__(self, runtime: Runtime, storage: StorageService, *, step_seconds: float) -> None:
        self.runtime = runtime
        self.storage = storage
        self.lock = runtime.lock
        self.step_seconds = step_seconds
        self.state = VertexState(objects=storage.view())

    def now(self) -> float:
        return self.runtime.now()

    def should_fail(self, display_name: str) -> bool:
        return any(fnmatch.fnmatchcase(display_name, p) for p in self.runtime.faults.fail_models)

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
        if job is None or job.parent != parent or job.state(self.now()) != "JOB_STATE_SUCCEEDED":
            raise not_found(f"{what} {parent}/{what.lower()}s/{resource_id} is not found.")
        return job
