"""What the poller runs when a job succeeds and has held-out examples: the base-vs-tuned
evaluation (bot.evaluation). The posting, exactly once, is the poller's (see poller.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.backends.backend import TuningBackend
from bot.domain.types import TrainingExample
from bot.evaluation import EvalReport, EvalRetry, evaluate
from bot.storage.models import TuningJob

HeldOut = Callable[[TuningJob], Sequence[TrainingExample]]
HasHeldOut = Callable[[Sequence[int]], set[int]]


@dataclass
class JobEvaluator:
    backend: TuningBackend
    # The job's held-out examples, and which of some jobs have any (both read from the
    # database, so called in a worker thread; the second once per poll batch).
    held_out: HeldOut
    has_held_out: HasHeldOut
    limit: int = 50
    concurrency: int = 32
    retry: EvalRetry = field(default_factory=EvalRetry)
    # The pairwise judge's model (None: no judge, no win rate).
    judge_model: str | None = None

    async def run(self, job: TuningJob) -> EvalReport | None:
        """The evaluation of a succeeded job, or None when it has no held-out examples."""
        examples = await asyncio.to_thread(self.held_out, job)
        if not examples or not job.model_name:
            return None
        return await evaluate(
            self.backend,
            tuned_model=job.model_name,
            base_model=job.base_model,
            examples=examples,
            limit=self.limit,
            concurrency=self.concurrency,
            retry=self.retry,
            judge_model=self.judge_model,
        )
