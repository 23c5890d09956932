"""`/tune eval`, stored like a job and carried out exactly once, across crashes and replicas.

`/tune eval` stores a row in `eval_request` (who asked, where, which model and dataset; for
`/tune eval a,b,… <dataset>` the models and their base models too, as a plan in `report_json`
until the leaderboard replaces it: bot/evaluation/board.py),
already leased to the process that answers the command, and runs it at once. Every poll
cycle also claims the requests no live process holds (`FOR UPDATE SKIP LOCKED` on
PostgreSQL, a lease that expired when its process died) and carries each on from where it
stopped. `eval_request.state` (the moves are in bot/domain/states.py) goes:

1. queued -> opening, written before the thread's first message ("… is evaluating …"), which
   names the request in its Slack message metadata; -> opened once Slack answers with its ts.
   Slack refusing it outright (an archived channel, …) ends the request: refused.
2. The evaluation runs (the lease renewed meanwhile); its report is stored with `evaluated`,
   so it never runs twice.
3. evaluated -> posting, written before the report is posted in the thread, named in its
   metadata; -> posted with its ts.
4. The CSV is uploaded in the thread, the first message edited to say it is done: done.

Every write is fenced by the lease, so a process that lost it cannot overwrite the new
holder's work. After an ambiguous failure (Slack stored the post and answered 500, or the
connection broke), and whenever a request is found in `opening` or `posting` (a crash
between the write and Slack's answer), the message is looked for by its metadata before it
is posted; the CSV is looked for by its file name in the thread before it is uploaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.backends.backend import TuningBackend
from bot.domain.states import EvalRequestState, advance
from bot.evaluation import EvalReport, EvalRetry, evaluate
from bot.evaluation.board import EvalBoard, planned_models, stored_kind
from bot.evaluation.runner import evaluate_many
from bot.polling.ports import ReporterError
from bot.storage.models import EvalRequest, utcnow
from bot.storage.store import Store

log = logging.getLogger(__name__)

R = EvalRequestState
CLAIMED_AT_ONCE = 10

# What a request's thread reports: one model against its base, or a leaderboard of several.
Outcome = EvalReport | EvalBoard


class EvalRefused(Exception):
    """Slack refused the thread's first message outright (`error`: its error code); the
    request is over, and whoever can tells the user."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class EvalThreads(Protocol):
    """What the runner needs from the chat side (Slack: `bot.slack.evaluation`). A post that
    fails ambiguously is looked for by its metadata before the error goes up; the error is a
    `ReporterError`, or `EvalRefused` when Slack will never take the thread's first message."""

    async def open_thread(self, request: EvalRequest) -> str:
        """Post the thread's first message; returns its ts."""
        ...

    async def find_thread(self, request: EvalRequest) -> str | None: ...

    async def post_report(self, request: EvalRequest, report: Outcome, *, trained_on: bool) -> str:
        """Post the report (or the leaderboard) in the thread; returns its ts."""
        ...

    async def find_report(self, request: EvalRequest) -> str | None: ...

    async def csv_posted(self, request: EvalRequest) -> bool: ...

    async def post_csv(self, request: EvalRequest, report: Outcome) -> None: ...

    async def close_thread(self, request: EvalRequest) -> None:
        """Edit the thread's first message: the evaluation is done."""
        ...


class _Lease:
    """One request leased to this process: its state moves, each written fenced by the lease."""

    def __init__(self, runner: EvalRequestRunner, request: EvalRequest) -> None:
        assert request.id is not None
        self.runner = runner
        self.request = request
        self.request_id = request.id

    async def write(self, *, renew: bool = False, **changes: Any) -> bool:
        values = dict(changes)
        if renew:
            values["lease_expires_at"] = self.runner.clock() + timedelta(seconds=self.runner.lease_seconds)
        store = self.runner.store
        ok = await store.run(store.eval_requests.update_leased, self.request_id, self.runner.owner, **values)
        if ok:
            for key, value in values.items():
                setattr(self.request, key, value)
        else:
            log.info("eval request %s: taken over by another process", self.request_id)
        return ok

    async def move(self, to: EvalRequestState, *, renew: bool = True, **changes: Any) -> bool:
        return await self.write(state=advance(self.request.state, to), renew=renew, **changes)

    async def keep(self) -> None:
        """Renew the lease while a slow step (the evaluation) runs, until cancelled or lost."""
        while True:
            await asyncio.sleep(self.runner.lease_seconds / 3)
            if not await self.write(renew=True):
                return

    async def release(self) -> None:
        store = self.runner.store
        await store.run(store.eval_requests.release, self.request_id, self.runner.owner)


@dataclass
class EvalRequestRunner:
    store: Store
    backend: TuningBackend
    threads: EvalThreads
    owner: str
    lease_seconds: float = 120.0
    limit: int = 50
    concurrency: int = 32
    retry: EvalRetry = field(default_factory=EvalRetry)
    # The pairwise judge's model (None: no judge, no win rate).
    judge_model: str | None = None
    clock: Callable[[], datetime] = utcnow

    async def submit(self, request: EvalRequest) -> EvalRequest:
        """Store a new request, leased to this process (which runs it next, with `run`)."""
        return await self.store.run(
            self.store.eval_requests.create,
            request,
            owner=self.owner,
            now=self.clock(),
            lease_seconds=self.lease_seconds,
        )

    async def run_due(self) -> None:
        """One poll cycle's share: carry on every request no live process holds."""
        requests = await self.store.run(
            self.store.eval_requests.claim,
            owner=self.owner,
            now=self.clock(),
            lease_seconds=self.lease_seconds,
            limit=CLAIMED_AT_ONCE,
        )
        await asyncio.gather(*(self._guarded(request) for request in requests))

    async def _guarded(self, request: EvalRequest) -> None:
        try:
            await self.run(request)
        except EvalRefused as refused:
            log.warning("eval request %s: Slack refused its thread (%s)", request.id, refused.error)
        except Exception:
            log.exception("eval request %s failed; it is tried again next cycle", request.id)

    async def run(self, request: EvalRequest) -> None:
        """Carry a request this process holds on from its state, then give the lease up.
        A failure to post leaves it for a later cycle; raises `EvalRefused` when Slack
        refused the thread's first message (the request is over)."""
        lease = _Lease(self, request)
        try:
            await self._steps(lease)
        except ReporterError as exc:
            log.warning("eval request %s: not posted yet (%s); retrying next cycle", request.id, exc)
        finally:
            await lease.release()

    async def _steps(self, lease: _Lease) -> None:
        request = lease.request
        if request.state in (R.QUEUED, R.OPENING) and not await self._open(lease):
            return
        if request.state == R.OPENED:
            keeping = asyncio.create_task(lease.keep())
            try:
                report = await self._evaluate(request)
            finally:
                keeping.cancel()
            if not await lease.move(R.EVALUATED, report_json=report.to_json()):
                return
        assert request.report_json is not None
        report = stored_outcome(request.report_json)
        if request.state in (R.EVALUATED, R.POSTING):
            recovering = request.state == R.POSTING
            if not await lease.move(R.POSTING):
                return
            ts = await self.threads.find_report(request) if recovering else None
            if ts is None:
                ts = await self.threads.post_report(
                    request, report, trained_on=await self._trained_on(request)
                )
            if not await lease.move(R.POSTED, report_ts=ts):
                return
        if request.state == R.POSTED:
            if not await self.threads.csv_posted(request):
                await self.threads.post_csv(request, report)
            await self.threads.close_thread(request)
            await lease.move(R.DONE)

    async def _open(self, lease: _Lease) -> bool:
        """The thread's first message, exactly once; False when there is nothing more to do now."""
        request = lease.request
        recovering = request.state == R.OPENING
        if not await lease.move(R.OPENING):
            return False
        try:
            ts = await self.threads.find_thread(request) if recovering else None
            if ts is None:
                ts = await self.threads.open_thread(request)
        except EvalRefused:
            await lease.move(R.REFUSED)
            raise
        return await lease.move(R.OPENED, thread_ts=ts)

    async def _evaluate(self, request: EvalRequest) -> Outcome:
        try:
            examples = await self.store.run(self.store.datasets.examples, request.dataset_id)
        except LookupError:  # the dataset was deleted meanwhile: a report on no examples
            examples = []
        models = planned_models(request.report_json)
        if models is not None:  # several models: the same sample for all, one leaderboard
            reports = await evaluate_many(
                self.backend,
                models=models,
                examples=examples,
                limit=self.limit,
                concurrency=self.concurrency,
                retry=self.retry,
                seed=request.id,
                judge_model=self.judge_model,
            )
            return EvalBoard(reports)
        return await evaluate(
            self.backend,
            tuned_model=request.model_name,
            base_model=request.base_model,
            examples=examples,
            limit=self.limit,
            concurrency=self.concurrency,
            retry=self.retry,
            seed=request.id,  # a random sample, the same whenever this request runs
            judge_model=self.judge_model,
        )

    async def _trained_on(self, request: EvalRequest) -> bool:
        """Whether the model (any of the models) was tuned by tunebot on the dataset it is
        evaluated on."""
        stored = request.report_json
        names = (
            [r.tuned_model for r in EvalBoard.from_json(stored).reports]
            if stored and stored_kind(stored) == "board"
            else [request.model_name]
        )
        for name in names:
            job = await self.store.run(self.store.jobs.for_model, name)
            if job is not None and job.dataset_id == request.dataset_id:
                return True
        return False


def stored_outcome(report_json: str) -> Outcome:
    """An evaluated request's stored report: one model's, or a leaderboard."""
    if stored_kind(report_json) == "board":
        return EvalBoard.from_json(report_json)
    return EvalReport.from_json(report_json)
