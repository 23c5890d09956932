"""Settings of the emulator: how fast jobs tune, which faults to inject, where state lives."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ScriptedFault:
    """Answer the next `times` matching requests with this error instead of serving them.

    `method` is a request kind such as `operations.get` or `tunedModels.create` (None: any).
    `body` sends that raw text instead of Google's JSON error (like a proxy's error page).
    """

    code: int
    times: int = 1
    method: str | None = None
    status: str | None = None
    message: str | None = None
    body: str | None = None
    retry_after_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScriptedFault:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown scripted fault field(s): {', '.join(sorted(unknown))}")
        if "code" not in data:
            raise ValueError("a scripted fault needs a code")
        return cls(**dict(data))


@dataclass(frozen=True)
class FaultConfig:
    """Faults applied to `/v1*` requests (never to `/_emulator/*`).

    Rates are probabilities per request, drawn from a seeded RNG; a 429 carries
    `Retry-After: retry_after_seconds` and a RetryInfo detail. `fail_models` holds model
    ids, names, display names or fnmatch patterns whose tuning job ends FAILED.
    """

    latency_seconds: float = 0.0
    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    retry_after_seconds: float = 1.0
    fail_models: tuple[str, ...] = ()
    scripted: tuple[ScriptedFault, ...] = ()
    # Vertex tuning jobs (display names or fnmatch patterns) that fail with code 13 after
    # tuning: "Failed to create endpoint", the model uploaded to the Model Registry.
    vertex_endpoint_failures: tuple[str, ...] = ()
    # Position bias of the emulated pairwise judge (standins/emulator/core/judge.py): "A" or
    # "B" picks that answer whatever it holds; "" judges by similarity to the expected answer.
    judge_prefers: str = ""

    def __post_init__(self) -> None:
        if self.judge_prefers not in ("", "A", "B"):
            raise ValueError(f'judge_prefers must be "", "A" or "B", got {self.judge_prefers!r}')
        for name in ("rate_429", "rate_500", "rate_503"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.rate_429 + self.rate_500 + self.rate_503 > 1.0:
            raise ValueError("rate_429 + rate_500 + rate_503 must not exceed 1")
        if self.latency_seconds < 0 or self.retry_after_seconds < 0:
            raise ValueError("latency_seconds and retry_after_seconds must not be negative")

    def to_json(self) -> dict[str, Any]:
        return {
            "latency_seconds": self.latency_seconds,
            "rate_429": self.rate_429,
            "rate_500": self.rate_500,
            "rate_503": self.rate_503,
            "retry_after_seconds": self.retry_after_seconds,
            "fail_models": list(self.fail_models),
            "vertex_endpoint_failures": list(self.vertex_endpoint_failures),
            "scripted": [s.to_json() for s in self.scripted],
            "judge_prefers": self.judge_prefers,
        }

    def updated(self, changes: Mapping[str, Any]) -> FaultConfig:
        """A copy with `changes` (JSON, as the admin endpoint receives it) applied."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key in ("fail_models", "vertex_endpoint_failures"):
                if isinstance(value, str) or not isinstance(value, list | tuple):
                    raise ValueError(f"{key} must be a list of strings")
                values[key] = tuple(str(v) for v in value)
            elif key == "judge_prefers":
                if not isinstance(value, str):
                    raise ValueError('judge_prefers must be "", "A" or "B"')
                values[key] = value
            elif key == "scripted":
                if not isinstance(value, list | tuple):
                    raise ValueError("scripted must be a list of objects")
                values[key] = tuple(
                    v if isinstance(v, ScriptedFault) else ScriptedFault.from_json(v) for v in value
                )
            else:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ValueError(f"{key} must be a number")
                values[key] = float(value)
        return replace(self, **values)


@dataclass(frozen=True)
class EmulatorConfig:
    """`step_seconds`: simulated seconds per tuning step (0 = jobs finish at once).
    `clock`: the time source (wall clock by default); `Emulator.advance()` adds to it.
    `api_keys`: when set, only these keys are valid (others get 400 API_KEY_INVALID).
    `vertex_denied_buckets`: Cloud Storage buckets whose uploads are answered 403.
    """

    step_seconds: float = 1.0
    state_file: Path | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0
    clock: Callable[[], float] = time.time
    fail_at_fraction: float = 0.5
    api_keys: frozenset[str] | None = None
    vertex_denied_buckets: frozenset[str] = frozenset()
    # Vertex's "global concurrent tuning jobs" quota per project (None: no limit). A job over it
    # waits (tuningJobState WAITING_FOR_QUOTA) or, with `vertex_quota_refuses`, is refused 429.
    vertex_concurrent_jobs: int | None = None
    vertex_quota_refuses: bool = False
