"""How long to wait before asking a service again: the poller's pace for a job, and the
evaluation's retries of a refused call. Pure: it decides waits, it never sleeps."""

from __future__ import annotations

from dataclasses import dataclass


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
