"""Pure scheduling rules: how soon to poll a job again, and what a poll changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.storage.models import TuningJob
from bot.tuning.types import JobProgress, JobState


@dataclass(frozen=True)
class Backoff:
    base_seconds: float = 12.0
    max_seconds: float = 300.0
    factor: float = 2.0

    def after_progress(self) -> float:
        return self.base_seconds

    def after_no_progress(self, previous: float) -> float:
        """A job whose progress has not moved is polled less and less often."""
        return min(self.max_seconds, max(self.base_seconds, previous * self.factor))

    def after_error(self, previous: float, retry_after: float | None = None) -> float:
        wait = self.after_no_progress(previous)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_seconds))
        return wait


def progress_changes(job: TuningJob, progress: JobProgress) -> dict[str, Any]:
    """The job columns a poll result changes (empty when nothing moved)."""
    new: dict[str, Any] = {
        "state": progress.state.value,
        "percent": round(progress.percent, 2),
        "completed_steps": progress.completed_steps,
        "total_steps": progress.total_steps if progress.total_steps is not None else job.total_steps,
        "epoch": progress.epoch,
        "mean_loss": progress.mean_loss,
        "error_message": progress.error_message,
    }
    if progress.state == JobState.SUCCEEDED and new["completed_steps"] is None:
        new["completed_steps"] = new["total_steps"]
    return {key: value for key, value in new.items() if getattr(job, key) != value}


def moved(changes: dict[str, Any]) -> bool:
    return bool({"state", "percent", "completed_steps"} & changes.keys())
