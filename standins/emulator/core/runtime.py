"""The state every surface shares: one lock, the simulated clock, injected faults, request counts.

The server may run in another thread than the test driving it, so every surface takes
`Runtime.lock` (re-entrant) around its reads and writes.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from standins.emulator.config import EmulatorConfig, FaultConfig
from standins.emulator.core.errors import ApiError


@dataclass
class Stats:
    total: int = 0
    by_method: Counter[str] = field(default_factory=Counter)
    by_status: Counter[str] = field(default_factory=Counter)
    operations_get: Counter[str] = field(default_factory=Counter)
    by_model: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    faults: Counter[str] = field(default_factory=Counter)

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_method": dict(self.by_method),
            "by_status": dict(self.by_status),
            "operations_get": dict(self.operations_get),
            "by_model": {k: dict(v) for k, v in self.by_model.items()},
            "faults": dict(self.faults),
        }


class Runtime:
    """Clock (`config.clock()` plus an offset moved by `advance`), faults and counts."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.offset = 0.0
        self.faults = config.faults
        self.rng = random.Random(config.seed)
        self.stats = Stats()

    def now(self) -> float:
        with self.lock:
            return self.config.clock() + self.offset

    def reset(self) -> None:
        with self.lock:
            self.offset = 0.0
            self.faults = self.config.faults
            self.rng = random.Random(self.config.seed)
            self.stats = Stats()

    def reset_stats(self) -> None:
        with self.lock:
            self.stats = Stats()

    def record_request(
        self, method: str, status: int, model: str | None = None, operation: str | None = None
    ) -> None:
        with self.lock:
            self.stats.total += 1
            self.stats.by_method[method] += 1
            self.stats.by_status[str(status)] += 1
            if model:
                self.stats.by_model[model][method] += 1
            if operation and method == "operations.get":
                self.stats.operations_get[operation] += 1

    def draw_fault(self, method: str) -> ApiError | None:
        """The injected failure for this request, if any (scripted first, then the rates)."""
        with self.lock:
            faults = self.faults
            for index, fault in enumerate(faults.scripted):
                if fault.method is None or fault.method == method:
                    remaining = list(faults.scripted)
                    if fault.times > 1:
                        remaining[index] = type(fault)(**{**asdict(fault), "times": fault.times - 1})
                    else:
                        del remaining[index]
                    self.faults = faults.updated({"scripted": remaining})
                    self.stats.faults["scripted"] += 1
                    headers = {}
                    if fault.retry_after_seconds is not None:
                        headers["retry-after"] = seconds_text(fault.retry_after_seconds)
                    return ApiError(
                        fault.code, fault.message, status=fault.status, headers=headers, raw_body=fault.body
                    )
            return self._draw_rate(faults)

    def _draw_rate(self, faults: FaultConfig) -> ApiError | None:
        if not (faults.rate_429 or faults.rate_500 or faults.rate_503):
            return None
        draw = self.rng.random()
        if draw < faults.rate_429:
            self.stats.faults["429"] += 1
            delay = seconds_text(faults.retry_after_seconds)
            return ApiError(
                429,
                "Resource has been exhausted (e.g. check quota).",
                status="RESOURCE_EXHAUSTED",
                details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{delay}s"}],
                headers={"retry-after": delay},
            )
        if draw < faults.rate_429 + faults.rate_500:
            self.stats.faults["500"] += 1
            return ApiError(500, status="INTERNAL")
        if draw < faults.rate_429 + faults.rate_500 + faults.rate_503:
            self.stats.faults["503"] += 1
            return ApiError(503, "The model is overloaded. Please try again later.", status="UNAVAILABLE")
        return None


def seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"
