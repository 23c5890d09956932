"""Evaluating 50 held-out examples on a tuned model and its base model, at 50 ms emulated latency.

The emulator runs in its own process (bench.stand_ins) with 50 ms added to every answer.
tunebot's evaluation (bot.evaluation.evaluate, the settings' default concurrency) is timed
against a sequential loop over the same backend in the same run: one example after the
other, tuned model then base model. The emulator's own counts check that each example cost
exactly one generateContent per model.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.common import Row, Section
from bench.stand_ins import BASE_MODEL, StandIns
from bot.backends.gemini_backend import GeminiBackend
from bot.config import Settings
from bot.domain.types import TrainingExample
from bot.evaluation import evaluate
from bot.gemini import GeminiClient

EXAMPLES = 50
LATENCY_SECONDS = 0.05
TARGET_SECONDS = 1.5
TARGET_SPEEDUP = 10.0

HELD_OUT = [TrainingExample(f"question {100 + i}", f"answer {100 + i}") for i in range(EXAMPLES)]


def _calls(stats: dict[str, Any], model: str, method: str) -> int:
    return int((stats.get("by_model") or {}).get(model, {}).get(method, 0))


async def _measure(emulator_url: str, model: str, stand_ins: StandIns) -> dict[str, Any]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with GeminiClient("bench-key", base_url=emulator_url) as client:
        backend = GeminiBackend(client)
        await backend.generate(model, "warm up")  # connections open, like a running bot's
        await backend.generate_base(BASE_MODEL, "warm up")
        stand_ins.call("reset_stats")

        started = time.perf_counter()
        report = await evaluate(
            backend,
            tuned_model=model,
            base_model=BASE_MODEL,
            examples=HELD_OUT,
            limit=settings.eval_max_examples,
            concurrency=settings.eval_concurrency,
        )
        concurrent = time.perf_counter() - started
        counted = stand_ins.call("stats")["emulator"]
        stand_ins.call("reset_stats")

        started = time.perf_counter()
        for example in HELD_OUT:
            await backend.generate(model, example.text_input)
            await backend.generate_base(BASE_MODEL, example.text_input)
        sequential = time.perf_counter() - started
    return {
        "seconds": concurrent,
        "sequential_seconds": sequential,
        "rows": report.count,
        "errors": report.errors,
        "concurrency": settings.eval_concurrency,
        "tuned_calls": _calls(counted, model, "tunedModels.generateContent"),
        "base_calls": _calls(counted, BASE_MODEL, "models.generateContent"),
        "tuned_exact_rate": report.tuned_exact_rate,
        "base_exact_rate": report.base_exact_rate,
    }


def run(quick: bool = False) -> Section:
    with StandIns() as stand_ins:
        [[model, _operation, _ts, _steps]] = stand_ins.call("seed", jobs=1)["jobs"]
        stand_ins.call("advance", seconds=3600)
        stand_ins.call("faults", changes={"latency_seconds": LATENCY_SECONDS})
        result = asyncio.run(_measure(stand_ins.emulator_url, model, stand_ins))
    seconds, sequential = result["seconds"], result["sequential_seconds"]
    speedup = sequential / seconds if seconds > 0 else float("inf")
    once_each = result["tuned_calls"] == EXAMPLES and result["base_calls"] == EXAMPLES
    complete = result["rows"] == EXAMPLES and result["errors"] == 0
    label = f"Evaluate {EXAMPLES} held-out examples, base + tuned ({LATENCY_SECONDS * 1000:.0f} ms latency)"
    rows = [
        Row(
            f"{label}: wall time",
            f"{seconds:.2f} s",
            f"{sequential:.2f} s (sequential loop)",
            f"< {TARGET_SECONDS} s",
            complete and seconds < TARGET_SECONDS,
            value=seconds,
            baseline_value=sequential,
        ),
        Row(
            f"{label}: speed-up over the loop",
            f"{speedup:.1f}×",
            "1× (sequential loop)",
            f"≥ {TARGET_SPEEDUP:.0f}×",
            complete and speedup >= TARGET_SPEEDUP,
            value=speedup,
            baseline_value=1.0,
        ),
        Row(
            f"{label}: generateContent calls per example",
            f"tuned {result['tuned_calls'] / EXAMPLES:g}, base {result['base_calls'] / EXAMPLES:g}",
            "-",
            "exactly 1 each",
            once_each,
        ),
    ]
    return Section("evaluation", rows, result)
