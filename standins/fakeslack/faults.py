"""The Web API call log and fault injection (rate limits, errors, delays)."""

from __future__ import annotations

import copy
from collections import deque

from standins.fakeslack.records import Fault, RecordedCall
from standins.fakeslack.state import WorkspaceState


class FaultsMixin(WorkspaceState):
    """Every Web API call received, and the faults the next calls will meet."""

    # ------------------------------------------------------------------ API call log

    def record_call(self, call: RecordedCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._touch()

    def calls(self, method: str | None = None) -> list[RecordedCall]:
        """Every Web API call received (optionally only `method`), in arrival order."""
        with self._lock:
            return [c for c in self._calls if method is None or c.method == method]

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()
            self._touch()

    # ------------------------------------------------------------------ fault injection

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next `times` calls to `method` ("*" = any) answer HTTP 429 ratelimited."""
        self._add_fault(
            method, Fault("ratelimit", times, error="ratelimited", status=429, retry_after=retry_after)
        )

    def fail(self, method: str, error: str = "internal_error", times: int = 1, *, status: int = 200) -> None:
        """The next `times` calls to `method` ("*" = any) answer `{"ok": false, "error": error}`."""
        self._add_fault(method, Fault("error", times, error=error, status=status))

    def fail_after_storing(self, method: str, times: int = 1, *, status: int = 500) -> None:
        """The next `times` calls to `method` do their work (a message is stored) and then
        answer HTTP `status` with `internal_error`, as Slack sometimes does."""
        self._add_fault(method, Fault("stored_error", times, status=status))

    def drop_after_storing(self, method: str, times: int = 1) -> None:
        """The next `times` calls to `method` do their work, then the connection is cut
        before any answer is written (the client sees the server disconnect)."""
        self._add_fault(method, Fault("stored_drop", times))

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls to `method` ("*" = any) are answered `seconds` late."""
        self._add_fault(method, Fault("delay", times, seconds=seconds))

    def _add_fault(self, method: str, fault: Fault) -> None:
        if fault.remaining < 1:
            return
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def take_fault(self, method: str) -> Fault | None:
        """Consume one pending fault for `method` (specific ones before "*")."""
        with self._lock:
            for key in (method, "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.popleft()
                    return copy.copy(fault)
            return None

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
