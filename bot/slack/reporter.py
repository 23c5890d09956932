"""Job messages in Slack: the progress message edited in place, the end-of-job notice
and the loss chart, drawn here from the loss curves the poller hands over. The
implementation of the poller's `JobReporter` port (bot/polling/ports.py).

Every notice carries Slack message metadata naming its job, so after a crash the
poller can look in the thread and see whether the notice was already posted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.types import LossCurves, LossPoint
from bot.evaluation.report import EvalReport
from bot.polling.ports import ReporterError
from bot.polling.view import JobView
from bot.presentation.chart import loss_chart_png
from bot.presentation.evaluation import (
    evaluation_blocks,
    evaluation_file_name,
    job_evaluation_file_title,
    job_evaluation_title,
)
from bot.presentation.jobs import loss_chart_file_name, loss_chart_file_title, loss_chart_title
from bot.presentation.progress import completion_notice, progress_blocks
from bot.presentation.signature import progress_signature as signature_of
from bot.services.errors import ModelRef
from bot.slack.calls import call, paged, post_once
from bot.storage.models import TuningJob

log = logging.getLogger(__name__)

NOTICE_EVENT_TYPE = "tunebot_job_notice"
EVALUATION_EVENT_TYPE = "tunebot_job_evaluation"
PROGRESS_EVENT_TYPE = "tunebot_job_message"

# Draws a loss chart: (training points, title, eval points) -> PNG.
ChartDrawer = Callable[[Sequence[LossPoint], str, Sequence[LossPoint]], bytes]


def draw_loss_chart(points: Sequence[LossPoint], title: str, eval_points: Sequence[LossPoint] = ()) -> bytes:
    return loss_chart_png(points, title, eval_points=eval_points)


def notice_metadata(job: TuningJob) -> dict[str, Any]:
    return {"event_type": NOTICE_EVENT_TYPE, "event_payload": {"job_id": str(job.id), "state": job.state}}


def progress_metadata(job: TuningJob) -> dict[str, Any]:
    return {"event_type": PROGRESS_EVENT_TYPE, "event_payload": {"job_id": str(job.id)}}


def evaluation_metadata(job: TuningJob) -> dict[str, Any]:
    return {"event_type": EVALUATION_EVENT_TYPE, "event_payload": {"job_id": str(job.id)}}


def evaluation_csv_name(job: TuningJob) -> str:
    return evaluation_file_name(f"job-{job.id}")


def is_message_for(message: dict[str, Any], job_id: int | None, event_type: str = NOTICE_EVENT_TYPE) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == event_type and str(payload.get("job_id")) == str(job_id)


class SlackReporter:
    def __init__(self, client: AsyncWebClient, *, chart: ChartDrawer = draw_loss_chart) -> None:
        self.client = client
        self.chart = chart
        # Told after a job's message or notice was posted or edited (the App Home redraws).
        self.on_change: Callable[[TuningJob], None] | None = None

    def _changed(self, job: TuningJob) -> None:
        if self.on_change is not None:
            self.on_change(job)

    def progress_signature(self, view: JobView) -> str:
        return signature_of(view)

    async def post_progress(self, job: TuningJob, view: JobView) -> str:
        text, blocks = progress_blocks(view)
        ts = await post_once(
            self.client,
            lambda: self.find_progress(job),
            channel=job.channel_id,
            text=text,
            blocks=blocks,
            metadata=progress_metadata(job),
        )
        self._changed(job)
        return ts

    async def find_progress(self, job: TuningJob) -> str | None:
        async for message in self._channel_messages(job):
            if is_message_for(message, job.id, PROGRESS_EVENT_TYPE):
                return str(message["ts"])
        return None

    async def update_progress(self, job: TuningJob, view: JobView) -> None:
        text, blocks = progress_blocks(view)
        await call(
            self.client, "chat_update", channel=job.channel_id, ts=job.message_ts, text=text, blocks=blocks
        )
        self._changed(job)

    async def post_notice(self, job: TuningJob, view: JobView) -> str:
        text, blocks = completion_notice(view)
        thread: dict[str, Any] = {}
        if job.message_ts:
            # One message, shown both in the job's thread and in the channel.
            thread = {"thread_ts": job.message_ts, "reply_broadcast": True}
        ts = await post_once(
            self.client,
            lambda: self.find_notice(job),
            channel=job.channel_id,
            text=text,
            blocks=blocks,
            metadata=notice_metadata(job),
            **thread,
        )
        self._changed(job)
        return ts

    async def find_notice(self, job: TuningJob) -> str | None:
        return await self._find_in_thread(job, NOTICE_EVENT_TYPE)

    async def chart_posted(self, job: TuningJob) -> bool:
        return await self._file_in_thread(job, loss_chart_file_name(job.id))

    async def draw_chart(self, job: TuningJob, curves: LossCurves) -> bytes:
        """The job's loss chart as a PNG, drawn in a worker thread (matplotlib is CPU work)."""
        return await asyncio.to_thread(
            self.chart, curves.train, loss_chart_title(job.display_name), curves.eval
        )

    async def post_chart(self, job: TuningJob, chart: bytes) -> None:
        thread = {"thread_ts": job.message_ts} if job.message_ts else {}
        try:
            await call(
                self.client,
                "files_upload_v2",
                channel=job.channel_id,
                content=chart,
                filename=loss_chart_file_name(job.id),
                title=loss_chart_file_title(job.display_name),
                **thread,
            )
        except ReporterError as exc:
            if not exc.ambiguous or not await self.chart_posted(job):
                raise
            log.info("job %s: the loss chart was stored although Slack's answer was lost", job.id)

    async def post_evaluation(self, job: TuningJob, report: EvalReport) -> str:
        """The base-vs-tuned evaluation, in the job's thread, naming the job in its metadata."""
        model = ModelRef(job.model_name or report.tuned_model, job.display_name)
        text, blocks = evaluation_blocks(report, title=job_evaluation_title(job.display_name), model=model)
        thread = {"thread_ts": job.message_ts} if job.message_ts else {}
        response = await call(
            self.client,
            "chat_postMessage",
            channel=job.channel_id,
            text=text,
            blocks=blocks,
            metadata=evaluation_metadata(job),
            **thread,
        )
        return str(response["ts"])

    async def find_evaluation(self, job: TuningJob) -> str | None:
        return await self._find_in_thread(job, EVALUATION_EVENT_TYPE)

    async def _find_in_thread(self, job: TuningJob, event_type: str) -> str | None:
        """The ts of the job's message of `event_type` in its thread, found by metadata."""
        async for message in self._job_messages(job):
            if is_message_for(message, job.id, event_type):
                return str(message["ts"])
        return None

    async def evaluation_csv_posted(self, job: TuningJob) -> bool:
        return await self._file_in_thread(job, evaluation_csv_name(job))

    async def _file_in_thread(self, job: TuningJob, name: str) -> bool:
        async for message in self._job_messages(job):
            if any(f.get("name") == name or f.get("title") == name for f in message.get("files") or []):
                return True
        return False

    async def post_evaluation_csv(self, job: TuningJob, report: EvalReport) -> None:
        thread = {"thread_ts": job.message_ts} if job.message_ts else {}
        await call(
            self.client,
            "files_upload_v2",
            channel=job.channel_id,
            content=report.to_csv(),
            filename=evaluation_csv_name(job),
            title=job_evaluation_file_title(job.display_name),
            **thread,
        )

    async def _job_messages(self, job: TuningJob) -> AsyncIterator[dict[str, Any]]:
        """The job's thread (or, without a job message, the channel since the job began)."""
        if not job.message_ts:
            async for message in self._channel_messages(job):
                yield message
            return
        async for message in paged(
            self.client, "conversations_replies", channel=job.channel_id, ts=job.message_ts
        ):
            yield message

    async def _channel_messages(self, job: TuningJob) -> AsyncIterator[dict[str, Any]]:
        """Channel messages since the job was created."""
        created = job.created_at.replace(tzinfo=job.created_at.tzinfo or UTC)
        async for message in paged(
            self.client,
            "conversations_history",
            channel=job.channel_id,
            oldest=f"{created.timestamp() - 60:.6f}",
        ):
            yield message
