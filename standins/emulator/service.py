"""The emulator: one clock, fault config and request count shared by its three surfaces.

`Emulator.gemini` (Gemini API tuning), `Emulator.vertex` (Vertex AI tuning, endpoints, models)
and `Emulator.storage` (Cloud Storage) hold each surface's state. The clock only moves for
tests through `advance()`/`finish_all()` (on top of `config.clock`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standins.emulator.config import EmulatorConfig, FaultConfig
from standins.emulator.core.errors import ApiError
from standins.emulator.core.runtime import Runtime
from standins.emulator.gemini.service import GeminiService
from standins.emulator.storage.service import StorageService
from standins.emulator.vertex.service import VertexService


class Emulator:
    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.runtime = Runtime(self.config)
        self.storage = StorageService(self.runtime, denied_buckets=self.config.vertex_denied_buckets)
        self.vertex = VertexService(self.runtime, self.storage, step_seconds=self.config.step_seconds)
        self.gemini = GeminiService(self.runtime)

    # -- clock ---------------------------------------------------------------------------------

    def now(self) -> float:
        return self.runtime.now()

    def advance(self, seconds: float) -> float:
        """Move the simulated clock forward; returns the new time."""
        if seconds < 0:
            raise ValueError("cannot move the clock backwards")
        with self.runtime.lock:
            self.runtime.offset += seconds
            self.gemini.clock_moved()
            return self.now()

    def finish_all(self) -> float:
        """Advance just far enough for every running job (Gemini API and Vertex AI) to end."""
        with self.runtime.lock:
            now = self.now()
            ends = [*self.gemini.end_times(), *self.vertex.end_times()]
            return self.advance(max([0.0, *(end - now for end in ends)]) + 1e-6)

    # -- faults, stats, reset ------------------------------------------------------------------

    @property
    def faults(self) -> FaultConfig:
        with self.runtime.lock:
            return self.runtime.faults

    def set_faults(self, faults: FaultConfig) -> FaultConfig:
        with self.runtime.lock:
            self.runtime.faults = faults
            self.gemini.faults_changed()
            return faults

    def update_faults(self, changes: Mapping[str, Any]) -> FaultConfig:
        with self.runtime.lock:
            return self.set_faults(self.runtime.faults.updated(changes))

    def draw_fault(self, method: str) -> ApiError | None:
        return self.runtime.draw_fault(method)

    def record_request(
        self, method: str, status: int, model: str | None = None, operation: str | None = None
    ) -> None:
        self.runtime.record_request(method, status, model=model, operation=operation)

    def stats(self) -> dict[str, Any]:
        with self.runtime.lock:
            return self.runtime.stats.to_json()

    def reset_stats(self) -> None:
        self.runtime.reset_stats()

    def reset(self) -> None:
        """Forget every model, job, object, fault and count; the clock offset goes back to 0."""
        with self.runtime.lock:
            self.vertex.reset()
            self.storage.reset()
            self.runtime.reset()
            self.gemini.reset()

    # -- Gemini API shortcuts for tests and tools ----------------------------------------------

    def model_ids(self) -> list[str]:
        return self.gemini.model_ids()

    def model_json(self, model_id: str) -> dict[str, Any]:
        return self.gemini.get_tuned_model(model_id)

    def list_operations(
        self, model_id: str, page_size: int | None = None, page_token: str | None = None
    ) -> dict[str, Any]:
        return self.gemini.list_operations(model_id, page_size, page_token)

    def delete_tuned_model(self, model_id: str) -> dict[str, Any]:
        return self.gemini.delete_tuned_model(model_id)
