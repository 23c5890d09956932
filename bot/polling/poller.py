"""One poll cycle: claim due jobs, ask the tuning service once per job, edit each job's
message only when what it shows changed, and announce finished jobs exactly once.

The states and every move between them are in one table, `bot/domain/states.py`; each
write of a state goes through `advance`, which refuses a move the table does not list.

Exactly-once notices. `tuning_job.notice_state` moves none -> posting -> posted -> done:
1. `posting` is written (fenced by the job's lease) *before* the notice is posted;
2. the notice carries Slack message metadata naming the job;
3. once Slack answers, `posted` and the message ts are written;
4. the loss chart is drawn (by the reporter, from the loss curves) and uploaded, then `done`.
A crash between 1 and 3 leaves `posting`: the next poller to hold the job first looks
for a message with that metadata in the job's thread and only posts when there is
none; so a crash can neither produce a second notice nor lose the first. The chart is
checked for in the thread the same way before it is uploaded. The notice goes into the
job message's thread, so it waits for that message: a job that ends while its message is
still refused gets the message (drawn in its final state) first, then the notice.

Evaluation (a succeeded job with held-out examples, when an evaluator is configured) runs
after the chart and before `done`, with its own `tuning_job.eval_state`: none -> evaluated
(the report is stored, so it never runs twice) -> posting -> posted (the message, found by
its metadata after a crash, as the notice is) -> done (the CSV, found by its file name).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.backends.backend import TuningBackend
from bot.domain.backoff import Backoff
from bot.domain.errors import BackendError
from bot.domain.states import (
    PENDING_NOTICE_STATES,
    SETTLED_EVAL_STATES,
    UNEVALUATED_STATES,
    EvalState,
    MessageState,
    NoticeState,
    advance,
)
from bot.domain.types import (
    JobState,
    LossCurves,
    checkpoints_from_json,
    checkpoints_json,
    final_point,
)
from bot.evaluation import EvalReport
from bot.polling.edits import PostTurns, ProgressEditor
from bot.polling.evaluation import JobEvaluator
from bot.polling.lease import LeasedJob
from bot.polling.pacing import Pacer
from bot.polling.ports import JobReporter, ReporterError
from bot.polling.schedule import counted_changes, moved, progress_changes, with_known_eval_loss
from bot.polling.view import JobView, job_view
from bot.storage.models import TuningJob, utcnow
from bot.storage.store import Store

log = logging.getLogger(__name__)

STARTING_GRACE = timedelta(minutes=10)


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


CHARTS_AT_ONCE = 2
CHARTED_STATES = (JobState.SUCCEEDED.value, JobState.FAILED.value, JobState.CANCELLED.value)


@dataclass
class CycleReport:
    claimed: int = 0
    polled: int = 0
    errors: int = 0
    edits: int = 0
    notices: int = 0
    finished: list[int] = field(default_factory=list)


class Poller:
    def __init__(
        self,
        store: Store,
        backend: TuningBackend,
        reporter: JobReporter,
        *,
        owner: str | None = None,
        backoff: Backoff | None = None,
        concurrency: int = 100,
        batch_size: int | None = None,
        lease_seconds: float = 120.0,
        clock: Callable[[], datetime] = utcnow,
        prices: Mapping[str, float] | None = None,
        currency: str = "USD",
        evaluator: JobEvaluator | None = None,
        pacer: Pacer | None = None,
        edits: ProgressEditor | None = None,
        posts: PostTurns | None = None,
    ) -> None:
        self.store = store
        self.backend = backend
        self.reporter = reporter
        self.owner = owner or instance_name()
        self.backoff = backoff or Backoff()
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.prices = dict(prices or {})
        self._drawing = asyncio.Semaphore(CHARTS_AT_ONCE)
        self.currency = currency
        self.evaluator = evaluator
        # Jobs of the batches in hand that held examples out (asked once per batch).
        self._evaluable: set[int] = set()
        self.concurrency = concurrency
        self._limit = asyncio.Semaphore(concurrency)
        self.batch_size = batch_size or concurrency
        self._waiting = 0  # claimed jobs not yet given a slot
        self._slots_low = asyncio.Event()
        self._dataset_names: dict[int, str | None] = {}
        self._cycle_lock = asyncio.Lock()
        # Shares the event loop with Slack's requests (`bot/polling/pacing.py`).
        self.pacer = pacer
        # More work each cycle runs beside the jobs (stored `/tune eval`s: bot/polling/eval_requests.py).
        self.each_cycle: list[Callable[[], Coroutine[Any, Any, None]]] = []
        # Slack's rate limits (`bot/polling/slackplan.py`): progress edits go through `edits`,
        # coalesced and spread under the tier; the cycle's posts take `posts` turns per channel.
        # Without them (unit tests), edits are sent inline and posts are not spaced.
        self.edits = edits
        self.posts = posts

    async def run_cycle(self) -> CycleReport:
        """Poll every due job once. Cycles in one process never overlap.

        Jobs are claimed in batches, so each lease only has to outlast one batch's work
        and other replicas can claim the rest meanwhile. The batches overlap: the next
        one is claimed as soon as fewer than `concurrency / 2` claimed jobs are still
        waiting for a slot, so the slots never run dry between batches, and each batch's
        results are written in one transaction while later batches go on.
        """
        async with self._cycle_lock:
            report = CycleReport()
            await self._recover_unstarted(self.clock())
            seen: set[int] = set()
            batches: list[asyncio.Task[None]] = [asyncio.create_task(work()) for work in self.each_cycle]
            try:
                while True:
                    await self._until_slots_run_low()
                    jobs = await self.store.run(
                        self.store.jobs.claim_due,
                        owner=self.owner,
                        now=self.clock(),
                        lease_seconds=self.lease_seconds,
                        limit=self.batch_size,
                    )
                    fresh = [job for job in jobs if job.id not in seen]
                    again = [job.id for job in jobs if job.id in seen and job.id is not None]
                    if again:  # polled earlier in this cycle and due again already: next cycle
                        await self.store.run(self.store.jobs.release, self.owner, [(i, {}) for i in again])
                    if not fresh:
                        break
                    seen.update(job.id for job in fresh if job.id is not None)
                    report.claimed += len(fresh)
                    batches.append(asyncio.create_task(self._run_batch(fresh, report)))
            finally:
                outcomes = await asyncio.gather(*batches, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
            return report

    async def _run_batch(self, jobs: list[TuningJob], report: CycleReport) -> None:
        self._waiting += len(jobs)
        await self._note_evaluable(jobs)
        releases: list[tuple[int, dict[str, Any]]] = []
        await asyncio.gather(*(self._guarded(job, report, releases) for job in jobs))
        held = await self.store.run(self.store.jobs.release, self.owner, releases)
        if held < len(releases):
            log.warning("%d jobs were taken over by another process mid-cycle", len(releases) - held)

    async def _note_evaluable(self, jobs: Sequence[TuningJob]) -> None:
        """Which of these jobs will want an evaluation when they succeed: one query."""
        if self.evaluator is None:
            return
        ids = [j.id for j in jobs if j.id is not None and j.eval_state not in SETTLED_EVAL_STATES]
        if ids:
            self._evaluable |= await self.store.run(self.evaluator.has_held_out, ids)

    async def _until_slots_run_low(self) -> None:
        while self._waiting >= self.concurrency / 2:
            self._slots_low.clear()
            await self._slots_low.wait()

    def _started_one(self) -> None:
        self._waiting -= 1
        if self._waiting < self.concurrency / 2:
            self._slots_low.set()

    async def run_job(self, job_id: int) -> bool:
        """Poll one job now (right after `/tune start`, to post its message at once).
        False if it is not due or another process holds it."""
        jobs = await self.store.run(
            self.store.jobs.claim_due,
            owner=self.owner,
            now=self.clock(),
            lease_seconds=self.lease_seconds,
            job_ids=[job_id],
        )
        if not jobs:
            return False
        releases: list[tuple[int, dict[str, Any]]] = []
        self._waiting += 1
        await self._note_evaluable(jobs)
        # One job someone is waiting for (a start): not paced behind requests, its own included.
        await self._guarded(jobs[0], CycleReport(), releases, paced=False)
        await self.store.run(self.store.jobs.release, self.owner, releases)
        return True

    async def _guarded(
        self,
        job: TuningJob,
        report: CycleReport,
        releases: list[tuple[int, dict[str, Any]]],
        paced: bool = True,
    ) -> None:
        async with self._limit:
            self._started_one()
            try:
                await self._handle(job, report, releases, paced)
            except Exception:
                report.errors += 1
                log.exception("job %s: poll failed; it stays leased until the lease expires", job.id)

    async def _handle(
        self,
        job: TuningJob,
        report: CycleReport,
        releases: list[tuple[int, dict[str, Any]]],
        paced: bool = True,
    ) -> None:
        assert job.id is not None
        run = LeasedJob(self, job, releases)
        await self._turn(paced)
        if not await run.renew_if_old():
            log.info("job %s: lease expired while waiting its turn; another process has it", job.id)
            return
        carried: LossCurves | None = None  # loss series the poll carried
        changes: dict[str, Any] = {}
        interval = job.poll_interval_seconds or self.backoff.base_seconds
        active = not JobState(job.state).finished
        if active or job.notice_state in PENDING_NOTICE_STATES:
            try:
                progress = await self.backend.poll(job.operation_name or "")
                report.polled += 1
            except BackendError as exc:
                report.polled += 1
                if not exc.not_found:
                    report.errors += 1
                    wait = self.backoff.after_error(interval, exc.retry_after)
                    log.warning("job %s: poll failed (%s); next try in %.0fs", job.id, exc, wait)
                    if not job.message_ts:
                        await self._show_progress(run, self.clock(), paced)
                    run.release(next_in=wait, interval=wait)
                    return
                if active:
                    changes = {
                        "state": JobState.LOST.value,
                        "error_message": "The tuning service no longer knows this job or its model.",
                    }
            else:
                carried = progress.curves or (
                    LossCurves(train=progress.loss_points) if progress.loss_points else None
                )
                if active:
                    changes = progress_changes(job, progress)
                    changes.update(counted_changes(job, changes, self.prices, self.currency))
        if active:
            interval = (
                self.backoff.after_progress() if moved(changes) else self.backoff.after_no_progress(interval)
            )
        now = self.clock()
        if changes.get("state") and JobState(changes["state"]).finished:
            changes["finished_at"] = now
            report.finished.append(job.id)
        run.stage(**changes)
        pending = JobState(job.state).finished and job.notice_state in PENDING_NOTICE_STATES
        curves = LossCurves()
        if pending:
            # An ended job, before its message's last edit, its notice and its chart: one read of
            # its loss series (or the points the poll carried), whose last points all three show.
            curves = await self._curves(job, carried)
            if job.notice_state != NoticeState.POSTED:
                run.stage(**final_losses(job, curves))
        await self._turn(paced)
        if await self._show_progress(run, now, paced):
            report.edits += 1
        if pending and await self._announce(run, curves, now, paced):
            report.notices += 1
        run.release(next_in=interval, interval=interval)

    async def _turn(self, paced: bool = True) -> None:
        if paced and self.pacer is not None:
            await self.pacer.turn()

    def _post_slot(self, channel: str, paced: bool = True) -> AbstractAsyncContextManager[None]:
        """The channel's turn to take a post (one a second after a short burst), held while
        the post is sent; nothing to wait for when not paced."""
        if paced and self.posts is not None:
            return self.posts.slot(channel)
        return contextlib.nullcontext()

    async def _show_progress(self, run: LeasedJob, now: datetime, paced: bool = True) -> bool:
        """Post the job message if it is missing (exactly once, like notices), else edit it
        if what it shows changed (through `edits`, when there is one: the newest view of the
        job replaces any edit still waiting for its turn)."""
        job = run.job
        view = self._view(job, now, await self._dataset_name(job))
        signature = self.reporter.progress_signature(view)
        try:
            if not job.message_ts and job.message_state == MessageState.POSTING:
                found = await self.reporter.find_progress(job)
                if found:
                    run.stage(message_ts=found, message_state=advance(job.message_state, MessageState.POSTED))
            if not job.message_ts:
                async with self._post_slot(job.channel_id, paced):
                    if not await run.write(message_state=advance(job.message_state, MessageState.POSTING)):
                        return False
                    ts = await self.reporter.post_progress(job, view)
                if self.edits is not None and job.id is not None:
                    self.edits.shown(job.id)
                posted = advance(job.message_state, MessageState.POSTED)
                return await run.write(message_ts=ts, message_state=posted, shown_signature=signature)
            if signature == job.shown_signature:
                return False
            if self.edits is not None:
                self.edits.submit(job, view, signature)  # recorded as shown once it is sent
                return True
            await self.reporter.update_progress(job, view)
        except ReporterError as exc:
            log.warning("job %s: progress message not updated (%s); retrying next cycle", job.id, exc)
            return False
        run.stage(shown_signature=signature)
        return True

    async def _announce(self, run: LeasedJob, curves: LossCurves, now: datetime, paced: bool = True) -> bool:
        """Post the notice and the chart once. `curves`: the job's loss series, read this cycle
        (the losses the job message and the notice show were staged from their last points)."""
        job = run.job
        posted_now = False
        if job.notice_state in (NoticeState.NONE, NoticeState.POSTING):
            if not job.message_ts:
                # The job message comes first, in its final state (`_show_progress` posts it on
                # the next cycle); the notice then goes into its thread.
                log.info("job %s: notice waits for the job message", job.id)
                return False
            recovering = job.notice_state == NoticeState.POSTING
            view = self._view(job, job.finished_at or now, await self._dataset_name(job))
            # The channel's turn first (the lease is renewed after the wait), then, recorded
            # (with the final state) before the post: see the module docstring.
            async with self._post_slot(job.channel_id, paced):
                if not await run.write(
                    notice_state=advance(job.notice_state, NoticeState.POSTING), renew=True
                ):
                    return False
                try:
                    ts = await self.reporter.find_notice(job) if recovering else None
                    if ts is None:
                        ts = await self.reporter.post_notice(job, view)
                        posted_now = True
                except ReporterError as exc:
                    log.warning("job %s: notice not posted yet (%s); retrying next cycle", job.id, exc)
                    return False
            if not await run.write(notice_state=advance(job.notice_state, NoticeState.POSTED), notice_ts=ts):
                return posted_now
        if job.notice_state == NoticeState.POSTED:
            try:
                if (
                    job.state in CHARTED_STATES
                    and curves.train
                    # A notice posted just now has no chart after it yet: no need to look.
                    and (posted_now or not await self.reporter.chart_posted(job))
                ):
                    # Drawing is CPU work: a few at a time, each with a fresh lease, so a cycle that
                    # finishes many jobs does not let their leases run out while charts queue.
                    async with self._drawing:
                        if not await run.write(renew=True):
                            return posted_now
                        chart = await self.reporter.draw_chart(job, curves)
                    if not await run.write(renew=True):  # drawing took long; is the job still ours?
                        return posted_now
                    await self.reporter.post_chart(job, chart)
            except ReporterError as exc:
                log.warning("job %s: loss chart not uploaded yet (%s); retrying next cycle", job.id, exc)
                return posted_now
            if not await self._evaluation(run):
                return posted_now
            run.stage(notice_state=advance(job.notice_state, NoticeState.DONE))
        return posted_now

    def _view(self, job: TuningJob, now: datetime, dataset_name: str | None) -> JobView:
        return job_view(job, now, dataset_name, self.prices, self.currency)

    async def _curves(self, job: TuningJob, carried: LossCurves | None) -> LossCurves:
        """The loss points for the chart: those the poll carried (the Gemini API's points; an
        ended Vertex AI job's series), else read from the service once (Vertex AI: training
        and eval series from TensorBoard)."""
        if carried is not None and carried.train:
            return carried
        if job.state not in CHARTED_STATES:
            return LossCurves()
        try:
            return await self.backend.loss_curves(job.operation_name or "")
        except BackendError as exc:
            log.warning("job %s: loss points not read (%s); no chart", job.id, exc)
            return LossCurves()

    async def _evaluation(self, run: LeasedJob) -> bool:
        """Evaluate a succeeded job and post the result once; True when there is nothing
        (more) to do, False to try again next cycle."""
        job = run.job
        if self.evaluator is None or job.state != JobState.SUCCEEDED.value:
            return True
        if job.eval_state in SETTLED_EVAL_STATES:
            return True
        assert job.id is not None
        if job.id not in self._evaluable:  # no held-out examples: written with the job's release
            run.stage(eval_state=advance(job.eval_state, EvalState.SKIPPED))
            return True
        report: EvalReport | None = None
        if job.eval_state in UNEVALUATED_STATES:
            report = await self.evaluator.run(job)
            if report is None:
                run.stage(eval_state=advance(job.eval_state, EvalState.SKIPPED))
                self._evaluable.discard(job.id)
                return True
            await self.store.run(self.store.evaluations.save_report, job.id, report.to_json())
            if not await run.write(eval_state=advance(job.eval_state, EvalState.EVALUATED), renew=True):
                return False
        if report is None:
            stored = await self.store.run(self.store.evaluations.report, job.id)
            if stored is None:  # the report went missing: run it again next cycle
                await run.write(eval_state=advance(job.eval_state, EvalState.NONE))
                return False
            report = EvalReport.from_json(stored)
        try:
            if job.eval_state in (EvalState.EVALUATED, EvalState.POSTING):
                recovering = job.eval_state == EvalState.POSTING
                if not await run.write(eval_state=advance(job.eval_state, EvalState.POSTING), renew=True):
                    return False
                ts = await self.reporter.find_evaluation(job) if recovering else None
                if ts is None:
                    ts = await self.reporter.post_evaluation(job, report)
                if not await run.write(eval_state=advance(job.eval_state, EvalState.POSTED), eval_ts=ts):
                    return False
            if job.eval_state == EvalState.POSTED:
                if not await self.reporter.evaluation_csv_posted(job):
                    await self.reporter.post_evaluation_csv(job, report)
                run.stage(eval_state=advance(job.eval_state, EvalState.DONE))
                self._evaluable.discard(job.id)
        except ReporterError as exc:
            log.warning("job %s: evaluation not posted yet (%s); retrying next cycle", job.id, exc)
            return False
        return True

    async def _dataset_name(self, job: TuningJob) -> str | None:
        if job.dataset_id is None:
            return None
        if job.dataset_id not in self._dataset_names:
            self._dataset_names[job.dataset_id] = await self.store.run(
                self.store.datasets.name_of, job.dataset_id
            )
        return self._dataset_names[job.dataset_id]

    async def _recover_unstarted(self, now: datetime) -> None:
        """Jobs whose `/tune start` died between sending the create and recording its
        answer: find what the create made by the id tunebot chose (the Gemini model id,
        the Vertex request label), record it and its owner; the cycle then posts its
        message and announces it like any job. Given up on (lost) after STARTING_GRACE."""
        for job in await self.store.run(self.store.jobs.unstarted, now):
            assert job.id is not None
            request_id = (job.model_name or "").rsplit("/", 1)[-1]
            try:
                started = await self.backend.find_started(request_id) if request_id else None
            except BackendError as exc:
                log.warning("job %s: could not look for the model its start created (%s)", job.id, exc)
                continue
            if started is not None:
                recorded = await self.store.run(
                    self.store.jobs.record_started,
                    job.id,
                    model_name=started.model_name,
                    operation_name=started.operation_name,
                    total_steps=started.total_steps,
                    hyperparameters=started.hyperparameters,
                )
                if recorded is not None:
                    log.warning(
                        "job %s: its start was interrupted; found %s and recorded it",
                        job.id,
                        started.model_name,
                    )
                continue
            created = job.created_at.replace(tzinfo=job.created_at.tzinfo or UTC)
            if created > now - STARTING_GRACE:
                continue  # the create may still be on its way; look again next cycle
            log.warning("job %s: its start never completed; marking it lost", job.id)
            await self.store.run(
                self.store.jobs.update,
                job.id,
                state=JobState.LOST.value,
                finished_at=now,
                notice_state=advance(job.notice_state, NoticeState.NONE),
                lease_owner=None,
                lease_expires_at=None,
                error_message="tunebot stopped while starting this job; check `/tune list` for the model.",
            )


def final_losses(job: TuningJob, curves: LossCurves) -> dict[str, Any]:
    """The job columns an ended job shows from its loss series: the final training and eval
    loss are their last points (the ones the chart ends on), and the checkpoints get the eval
    loss at their steps."""
    changes: dict[str, Any] = {}
    train, evaluation = final_point(curves.train), final_point(curves.eval)
    if train is not None:
        changes["mean_loss"] = train.mean_loss
    if evaluation is not None:
        changes["eval_loss"] = evaluation.mean_loss
    if curves.checkpoints:
        known = checkpoints_from_json(job.checkpoints)
        changes["checkpoints"] = checkpoints_json(with_known_eval_loss(curves.checkpoints, known))
    return {key: value for key, value in changes.items() if getattr(job, key) != value}
