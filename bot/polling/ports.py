"""What the poller needs from the chat side. The Slack implementation lives in
`bot.slack.reporter`; the poller itself knows nothing about Slack, nor about how a
message or a chart is drawn: it hands over data (a `JobView`, the loss curves, an
evaluation report) and keeps the exactly-once bookkeeping."""

from __future__ import annotations

from typing import Protocol

from bot.domain.types import LossCurves
from bot.evaluation.report import EvalReport
from bot.polling.view import JobView
from bot.storage.models import TuningJob


class ReporterError(Exception):
    """The chat service did not take a message; the poller retries on a later cycle.

    `ambiguous`: the service may have done it anyway (a 5xx answer, `internal_error`, a
    connection cut after the request left), so look before posting again. `retry_after`:
    the service was rate-limited and said how many seconds to wait (None otherwise)."""

    def __init__(self, message: str, *, ambiguous: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous
        self.retry_after = retry_after


class JobReporter(Protocol):
    def progress_signature(self, view: JobView) -> str:
        """A short hash of what the progress message shows for `view`: the poller edits the
        message only when it changes (so never for the passing of time alone)."""
        ...

    async def post_progress(self, job: TuningJob, view: JobView) -> str:
        """Post the job's progress message; returns its id (Slack: ts)."""
        ...

    async def update_progress(self, job: TuningJob, view: JobView) -> None: ...

    async def find_progress(self, job: TuningJob) -> str | None:
        """The id of a progress message already posted for `job`, if any (crash recovery)."""
        ...

    async def find_notice(self, job: TuningJob) -> str | None:
        """The id of an end-of-job notice already posted for `job`, if any (crash recovery)."""
        ...

    async def post_notice(self, job: TuningJob, view: JobView) -> str: ...

    async def chart_posted(self, job: TuningJob) -> bool: ...

    async def draw_chart(self, job: TuningJob, curves: LossCurves) -> bytes:
        """The loss chart of a finished job (`curves.train` is not empty): CPU work, done off
        the event loop; the poller bounds how many are drawn at once."""
        ...

    async def post_chart(self, job: TuningJob, chart: bytes) -> None: ...

    async def post_evaluation(self, job: TuningJob, report: EvalReport) -> str:
        """Post the base-vs-tuned evaluation in the job's thread; returns its id."""
        ...

    async def find_evaluation(self, job: TuningJob) -> str | None:
        """The id of an evaluation already posted for `job`, if any (crash recovery)."""
        ...

    async def evaluation_csv_posted(self, job: TuningJob) -> bool: ...

    async def post_evaluation_csv(self, job: TuningJob, report: EvalReport) -> None: ...
