"""Evaluating 8 variants on 50 held-out examples with the pairwise judge, at 50 ms emulated latency.

Issue #23's "Must show" row: 8 × 50 tuned calls, 50 base calls (the base answers are shared
by the variants on the same base model) and 2 × 8 × 50 judge calls (each row judged in both
orders). The emulator runs in its own process (bench.stand_ins) with 50 ms added to every
answer; tunebot's `evaluate_many` (the settings' default concurrency) is timed against a
sequential loop making the same calls in the same run, one after the other. The emulator's
own counts check the number of calls of each kind.
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
from bot.evaluation.judge import JUDGE_INSTRUCTIONS, VERDICT_SCHEMA, judge_prompt
from bot.evaluation.runner import evaluate_many
from bot.gemini import GeminiClient

VARIANTS = 8
EXAMPLES = 50
QUICK_EXAMPLES = 10
LATENCY_SECONDS = 0.05
TARGET_SECONDS = 4.0
TARGET_SPEEDUP = 10.0


def _held_out(count: int) -> list[TrainingExample]:
    return [TrainingExample(f"question {100 + i}", f"answer {100 + i}") for i in range(count)]


def _calls(stats: dict[str, Any], model: str, method: str) -> int:
    return int((stats.get("by_model") or {}).get(model, {}).get(method, 0))


async def _sequential(
    backend: GeminiBackend, variants: list[str], judge: str, held_out: list[TrainingExample]
) -> None:
    """The same calls, one at a time: each example's base answer once, then per variant its
    answer and the judge in both orders."""
    for example in held_out:
        base = await backend.generate_base(BASE_MODEL, example.text_input)
        for variant in variants:
            tuned = await backend.generate(variant, example.text_input)
            for a, b in ((tuned, base), (base, tuned)):
                prompt = judge_prompt(
                    prompt=example.text_input, expected=example.output, answer_a=a, answer_b=b
                )
                await backend.generate_json(
                    judge, prompt, instructions=JUDGE_INSTRUCTIONS, schema=VERDICT_SCHEMA
                )


async def _measure(
    emulator_url: str, variants: list[str], stand_ins: StandIns, held_out: list[TrainingExample]
) -> dict[str, Any]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with GeminiClient("bench-key", base_url=emulator_url) as client:
        backend = GeminiBackend(client)
        judge = settings.judge_model(backend.default_judge_model) or backend.default_judge_model
        await backend.generate(variants[0], "warm up")  # connections open, like a running bot's
        await backend.generate_base(BASE_MODEL, "warm up")
        stand_ins.call("reset_stats")
        emulator_cpu = stand_ins.call("stats")["cpu_seconds"]

        started, cpu = time.perf_counter(), time.process_time()
        reports = await evaluate_many(
            backend,
            models=[(variant, BASE_MODEL) for variant in variants],
            examples=held_out,
            limit=len(held_out),
            concurrency=settings.eval_concurrency,
            judge_model=judge,
        )
        concurrent, cpu = time.perf_counter() - started, time.process_time() - cpu
        stats = stand_ins.call("stats")
        counted, emulator_cpu = stats["emulator"], stats["cpu_seconds"] - emulator_cpu
        stand_ins.call("reset_stats")

        started = time.perf_counter()
        await _sequential(backend, variants, judge, held_out)
        sequential = time.perf_counter() - started
    method = "tunedModels.generateContent"
    return {
        "seconds": concurrent,
        "sequential_seconds": sequential,
        "variants": len(reports),
        "rows": sum(r.count for r in reports),
        "errors": sum(r.errors for r in reports),
        "unjudged": sum(r.outcomes[3] for r in reports),
        "win_rates": [r.win_rate for r in reports],
        "concurrency": settings.eval_concurrency,
        "client_cpu_seconds": cpu,
        "emulator_cpu_seconds": emulator_cpu,
        "judge_model": judge,
        "tuned_calls": sum(_calls(counted, v, method) for v in variants),
        "base_calls": _calls(counted, BASE_MODEL, "models.generateContent"),
        "judge_calls": _calls(counted, judge, "models.generateContent"),
        "total_calls": int(counted.get("total", 0)),
        "by_model": counted.get("by_model"),
    }


def run(quick: bool = False) -> Section:
    examples = QUICK_EXAMPLES if quick else EXAMPLES
    held_out = _held_out(examples)
    with StandIns() as stand_ins:
        jobs = stand_ins.call("seed", jobs=VARIANTS)["jobs"]
        variants = [model for model, _operation, _ts, _steps in jobs]
        stand_ins.call("advance", seconds=3600)
        stand_ins.call("faults", changes={"latency_seconds": LATENCY_SECONDS})
        result = asyncio.run(_measure(stand_ins.emulator_url, variants, stand_ins, held_out))
    seconds, sequential = result["seconds"], result["sequential_seconds"]
    speedup = sequential / seconds if seconds > 0 else float("inf")
    expected = {
        "tuned_calls": VARIANTS * examples,
        "base_calls": examples,
        "judge_calls": 2 * VARIANTS * examples,
    }
    exact_counts = all(result[key] == value for key, value in expected.items())
    complete = result["rows"] == VARIANTS * examples and result["errors"] == 0 and result["unjudged"] == 0
    label = (
        f"Evaluate {VARIANTS} variants on {examples} held-out examples with the judge "
        f"({LATENCY_SECONDS * 1000:.0f} ms latency)"
    )
    rows = [
        Row(
            f"{label}: wall time",
            f"{seconds:.2f} s",
            f"{sequential:.2f} s (sequential loop)",
            f"< {TARGET_SECONDS:g} s",
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
            f"{label}: generateContent calls",
            f"tuned {result['tuned_calls']}, base {result['base_calls']}, judge {result['judge_calls']}",
            "-",
            f"exactly tuned {expected['tuned_calls']}, base {expected['base_calls']}, "
            f"judge {expected['judge_calls']}",
            exact_counts,
        ),
    ]
    return Section("judged_leaderboard", rows, result)
