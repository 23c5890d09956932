"""Showing a newly started job: its progress message is posted by the poller (the one
writer of job messages, which posts each exactly once), polled right away."""

from __future__ import annotations

import logging

from bot.polling.ports import ReporterError
from bot.polling.view import job_view
from bot.presentation.jobs import progress_not_posted_text
from bot.slack.context import AppContext
from bot.storage.models import TuningJob, utcnow

log = logging.getLogger(__name__)


async def announce_new_job(ctx: AppContext, job: TuningJob) -> str | None:
    """Poll the new job at once so its message appears; returns a note for the user when
    Slack would not take it. The job keeps tuning either way, and later cycles retry."""
    assert job.id is not None
    if ctx.poll_now is not None:
        await ctx.poll_now(job.id)
    current = await ctx.store.run(ctx.store.jobs.get, job.id)
    if current is not None and current.message_ts:
        return None
    log.warning("job %s: its progress message is not posted yet", job.id)
    return progress_not_posted_text(job)


async def show_cancelled(ctx: AppContext, job: TuningJob, user_id: str) -> None:
    """A job whose model was deleted while tuning: its message says who cancelled it (the
    poller no longer follows the job, so nothing else would edit it)."""
    if not job.message_ts:
        return
    dataset_name = await ctx.store.run(ctx.store.datasets.name_of, job.dataset_id)
    view = job_view(job, utcnow(), dataset_name, cancelled_by=user_id)
    try:
        await ctx.reporter.update_progress(job, view)
    except ReporterError:
        log.warning("job %s: could not show that it was cancelled", job.id)


async def show_cancelled_job(ctx: AppContext, job: TuningJob) -> None:
    """A job stopped with `/tune cancel`: its message says, once, who cancelled it, the
    checkpoints it keeps and its cost so far (it gets no end-of-job notice: the poller no
    longer follows it, so nothing else edits the message)."""
    if not job.message_ts:
        return
    dataset_name = await ctx.store.run(ctx.store.datasets.name_of, job.dataset_id)
    settings = ctx.settings
    view = job_view(job, utcnow(), dataset_name, settings.training_prices, settings.price_currency)
    try:
        await ctx.reporter.update_progress(job, view)
    except ReporterError:
        log.warning("job %s: could not show that it was cancelled", job.id)
        return
    await ctx.store.run(
        ctx.store.jobs.update, job.id or 0, shown_signature=ctx.reporter.progress_signature(view)
    )
