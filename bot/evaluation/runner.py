"""Running held-out examples through the tuned and the base model (and the judge).

Each example costs exactly one generateContent per model when nothing fails (a base model
shared by several tuned models answers once), and with a judge two more per tuned model
(bot.evaluation.judge: both orders). At most
`concurrency` calls are in flight at once. A call the service refuses with a retryable
error (429, 5xx, a dropped connection) is retried under the poller's rules
(bot.domain.backoff.Backoff: exponential, capped, and never sooner than the service's
Retry-After), up to `EvalRetry.attempts` in all; a row whose call still fails keeps the
error and scores nothing, so one bad answer never sinks the whole evaluation.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.backends.backend import TuningBackend
from bot.domain.backoff import Backoff
from bot.domain.errors import BackendError
from bot.domain.types import Conversation, TrainingExample
from bot.evaluation.judge import JUDGE_INSTRUCTIONS, VERDICT_SCHEMA, judge_row
from bot.evaluation.report import EvalReport, EvalRow

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class EvalRetry:
    attempts: int = 4
    backoff: Backoff = field(default_factory=lambda: Backoff(base_seconds=1.0, max_seconds=30.0))
    sleep: Sleep = asyncio.sleep


async def _with_retries(call: Callable[[], Awaitable[str]], retry: EvalRetry) -> tuple[str, str | None]:
    """-> (answer, None) or ("", the error in words) once the attempts are spent."""
    wait = 0.0
    for attempt in range(1, retry.attempts + 1):
        try:
            return await call(), None
        except BackendError as exc:
            if not exc.retryable or attempt == retry.attempts:
                return "", str(exc)
            wait = retry.backoff.after_error(wait, exc.retry_after)
            await retry.sleep(wait)
    return "", "no attempt was made"


async def evaluate(
    backend: TuningBackend,
    *,
    tuned_model: str,
    base_model: str,
    examples: Sequence[TrainingExample],
    limit: int = 50,
    concurrency: int = 32,
    retry: EvalRetry | None = None,
    seed: int | None = None,
    judge_model: str | None = None,
) -> EvalReport:
    """`limit` examples through both models: the first ones, or with a `seed` a random sample
    (the same for the same seed); rows in the examples' order, each with its number in them.
    With a `judge_model`, each row is also judged pairwise (bot.evaluation.judge)."""
    [report] = await evaluate_many(
        backend,
        models=[(tuned_model, base_model)],
        examples=examples,
        limit=limit,
        concurrency=concurrency,
        retry=retry,
        seed=seed,
        judge_model=judge_model,
    )
    return report


async def evaluate_many(
    backend: TuningBackend,
    *,
    models: Sequence[tuple[str, str]],
    examples: Sequence[TrainingExample],
    limit: int = 50,
    concurrency: int = 32,
    retry: EvalRetry | None = None,
    seed: int | None = None,
    judge_model: str | None = None,
) -> list[EvalReport]:
    """Several tuned models (each with its base model) on the same examples (one sample):
    one report per model, in order. A base model answers each example once, however many
    tuned models share it; each tuned model once per example; the judge twice per row (both
    orders). All calls share one bound of `concurrency` in flight."""
    numbers = sample_numbers(len(examples), limit, seed)
    chosen = [(number, examples[number - 1]) for number in numbers]
    gate = asyncio.Semaphore(max(concurrency, 1))
    policy = retry or EvalRetry()

    async def one(call: Callable[[], Awaitable[str]]) -> tuple[str, str | None]:
        async with gate:
            return await _with_retries(call, policy)

    def context_of(example: TrainingExample) -> Conversation | None:
        # A conversation's last model turn is scored, given the turns before it and its
        # system instruction; a pair is sent alone, as it always was.
        return example.context() if example.history or example.system else None

    def base_call(base_model: str, example: TrainingExample) -> Awaitable[tuple[str, str | None]]:
        context = context_of(example)
        return one(lambda: backend.generate_base(base_model, example.text_input, conversation=context))

    base_answers = {
        (base, number): asyncio.ensure_future(base_call(base, example))
        for base in dict.fromkeys(b for _, b in models)
        for number, example in chosen
    }

    async def ask_judge(text: str) -> tuple[str, str | None]:
        assert judge_model is not None
        model = judge_model
        return await one(
            lambda: backend.generate_json(model, text, instructions=JUDGE_INSTRUCTIONS, schema=VERDICT_SCHEMA)
        )

    async def row(tuned_model: str, base_model: str, number: int, example: TrainingExample) -> EvalRow:
        prompt, context = example.text_input, context_of(example)
        tuned, tuned_error = await one(lambda: backend.generate(tuned_model, prompt, conversation=context))
        base, base_error = await base_answers[(base_model, number)]
        scored = EvalRow(prompt, example.output, base, tuned, base_error, tuned_error, number=number)
        if judge_model is None:
            return scored
        if tuned_error is not None or base_error is not None:
            return replace(scored, judge_error="an answer failed, so there was nothing to judge")
        judgement = await judge_row(
            ask_judge, prompt=prompt, expected=example.output, tuned=tuned, base=base, context=context
        )
        return replace(
            scored,
            judged=judgement.outcome.value if judgement.outcome is not None else None,
            judge_reason=judgement.reason or None,
            judge_error=judgement.error,
        )

    try:
        per_model = await asyncio.gather(
            *(
                asyncio.gather(*(row(tuned, base, number, example) for number, example in chosen))
                for tuned, base in models
            )
        )
    finally:
        for task in base_answers.values():
            task.cancel()
    return [
        EvalReport(
            tuned,
            base,
            list(rows),
            available=len(examples),
            seed=seed,
            judge_model=judge_model,
        )
        for (tuned, base), rows in zip(models, per_model, strict=True)
    ]


def sample_numbers(available: int, limit: int, seed: int | None) -> list[int]:
    """Which examples (1-based, ascending) an evaluation of at most `limit` runs: the first
    ones, or with a seed a random sample of them all."""
    count = min(max(limit, 0), available)
    if seed is None or count == available:
        return list(range(1, count + 1))
    return sorted(n + 1 for n in random.Random(seed).sample(range(available), count))
