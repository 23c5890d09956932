"""Running held-out examples through the tuned and the base model.

Each example costs exactly one generateContent per model when nothing fails. At most
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
from dataclasses import dataclass, field

from bot.backends.backend import TuningBackend
from bot.domain.backoff import Backoff
from bot.domain.errors import BackendError
from bot.domain.types import TrainingExample
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
) -> EvalReport:
    """`limit` examples through both models: the first ones, or with a `seed` a random sample
    (the same for the same seed); rows in the examples' order, each with its number in them."""
    numbers = sample_numbers(len(examples), limit, seed)
    chosen = [(number, examples[number - 1]) for number in numbers]
    gate = asyncio.Semaphore(max(concurrency, 1))
    policy = retry or EvalRetry()

    async def one(call: Callable[[], Awaitable[str]]) -> tuple[str, str | None]:
        async with gate:
            return await _with_retries(call, policy)

    async def row(number: int, example: TrainingExample) -> EvalRow:
        # A conversation's last model turn is scored, given the turns before it and its
        # system instruction; a pair is sent alone, as it always was.
        prompt = example.text_input
        context = example.context() if example.history or example.system else None
        (tuned, tuned_error), (base, base_error) = await asyncio.gather(
            one(lambda: backend.generate(tuned_model, prompt, conversation=context)),
            one(lambda: backend.generate_base(base_model, prompt, conversation=context)),
        )
        return EvalRow(prompt, example.output, base, tuned, base_error, tuned_error, number=number)

    rows = await asyncio.gather(*(row(number, example) for number, example in chosen))
    return EvalReport(tuned_model, base_model, list(rows), available=len(examples), seed=seed)


def sample_numbers(available: int, limit: int, seed: int | None) -> list[int]:
    """Which examples (1-based, ascending) an evaluation of at most `limit` runs: the first
    ones, or with a seed a random sample of them all."""
    count = min(max(limit, 0), available)
    if seed is None or count == available:
        return list(range(1, count + 1))
    return sorted(n + 1 for n in random.Random(seed).sample(range(available), count))
