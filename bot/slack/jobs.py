"""Posting a newly started job's progress message (later edited by the poller)."""

from __future__ import annotations

import logging

from bot.polling.ports import ReporterError
from bot.render.jobs import job_view
from bot.render.progress import progress_signature
from bot.render.text import escape_mrkdwn as esc
from bot.slack.context import AppContext
from bot.storage.models import TuningJob, utcnow

log = logging.getLogger(__name__)


async def announce_new_job(ctx: AppContext, job: TuningJob) -> str | None:
    """Post the job message; returns a note for the user when Slack would not take it.

    The job keeps tuning either way: the poller posts the message later if it is missing.
    """
    assert job.id is not None
    dataset = ctx.store.dataset_name(job.dataset_id)
    view = job_view(job, utcnow(), dataset)
    try:
        ts = await ctx.reporter.post_progress(job, view)
    except ReporterError as exc:
        log.warning("job %s: could not post its progress message: %s", job.id, exc)
        return (
            f"Tuning *{esc(job.display_name)}* started (`{esc(job.model_name or '')}`), but I could not post "
            "its progress message here. Invite me to this channel with `/invite @tunebot`; "
            "`/tune status` shows progress meanwhile."
        )
    ctx.store.update_job(job.id, message_ts=ts, shown_signature=progress_signature(view))
    return None
