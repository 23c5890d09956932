"""A Vertex AI tuning job (and what its TensorBoard series say) -> backend-neutral progress.

Pure functions. Vertex has no percent or loss field on the job: the step comes from the
`/train_total_loss` series' `maxStep`, the total from `tuningStepCount`, and the losses from
the latest points of the training and evaluation series (see `vertex_metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.types import (
    Checkpoint,
    DataStats,
    JobProgress,
    JobState,
    LossPoint,
    SentHyperparameters,
)
from bot.vertex import SeriesPoint, TuningJob
from bot.vertex.types import ADAPTER_SIZE_NUMBER

TRAIN_LOSS = "/train_total_loss"
EVAL_LOSS = "/eval_total_loss"

JOB_STATES = {
    "JOB_STATE_QUEUED": JobState.QUEUED,
    "JOB_STATE_PENDING": JobState.QUEUED,
    "JOB_STATE_RUNNING": JobState.RUNNING,
    "JOB_STATE_UPDATING": JobState.RUNNING,
    "JOB_STATE_PAUSED": JobState.RUNNING,
    "JOB_STATE_CANCELLING": JobState.RUNNING,
    "JOB_STATE_SUCCEEDED": JobState.SUCCEEDED,
    "JOB_STATE_PARTIALLY_SUCCEEDED": JobState.SUCCEEDED,
    "JOB_STATE_FAILED": JobState.FAILED,
    "JOB_STATE_EXPIRED": JobState.FAILED,
    "JOB_STATE_CANCELLED": JobState.CANCELLED,
}
# Job states that need a word of their own next to queued / tuning / ready / failed.
DETAIL_OF_STATE = {
    "JOB_STATE_PAUSED": "paused",
    "JOB_STATE_UPDATING": "updating",
    "JOB_STATE_CANCELLING": "cancelling",
    "JOB_STATE_EXPIRED": "expired",
    "JOB_STATE_PARTIALLY_SUCCEEDED": "partially_succeeded",
}
# The v1beta1 sub-state while a job runs (`tuningJobState`).
SUB_STATES = {
    "TUNING_JOB_STATE_WAITING_FOR_QUOTA": "waiting_for_quota",
    "TUNING_JOB_STATE_PROCESSING_DATASET": "processing_dataset",
    "TUNING_JOB_STATE_WAITING_FOR_CAPACITY": "waiting_for_capacity",
    "TUNING_JOB_STATE_TUNING": "tuning",
    "TUNING_JOB_STATE_POST_PROCESSING": "post_processing",
}
ENDPOINT_FAILURE_CODE = 13


@dataclass(frozen=True)
class MetricsSnapshot:
    """What tunebot last learnt from the job's TensorBoard run."""

    train_max_step: int | None = None
    eval_max_step: int | None = None
    train_loss: SeriesPoint | None = None
    eval_loss: SeriesPoint | None = None


def job_state(job: TuningJob) -> JobState:
    return JOB_STATES.get(job.state, JobState.QUEUED)


def detail_state(job: TuningJob) -> str | None:
    if job.state in DETAIL_OF_STATE:
        return DETAIL_OF_STATE[job.state]
    if job_state(job) in (JobState.QUEUED, JobState.RUNNING) and job.sub_state:
        return SUB_STATES.get(job.sub_state)
    return None


def clamp_percent(value: float) -> float:
    return max(0.0, min(100.0, value))


def percent_done(job: TuningJob, metrics: MetricsSnapshot | None) -> float:
    """`maxStep` of the training loss ÷ `tuningStepCount`, clamped; completed epochs ÷ epochs
    as the fallback; 0 when neither is known."""
    step = metrics.train_max_step if metrics else None
    if step is not None and job.total_steps:
        return clamp_percent(step / job.total_steps * 100)
    if job.completed_epochs is not None and job.epoch_count:
        return clamp_percent(job.completed_epochs / job.epoch_count * 100)
    return 0.0


def epoch_of_step(step: int, total_steps: int | None, epoch_count: int | None) -> int:
    """The 0-based epoch a step falls in (steps are spread evenly over the epochs)."""
    if not total_steps or not epoch_count:
        return 0
    return max(0, min(epoch_count - 1, (max(step, 1) - 1) * epoch_count // total_steps))


def current_epoch(job: TuningJob, metrics: MetricsSnapshot | None) -> int | None:
    step = metrics.train_max_step if metrics else None
    if step is not None and job.total_steps and job.epoch_count:
        return epoch_of_step(step, job.total_steps, job.epoch_count)
    if job.completed_epochs is not None and job.epoch_count:
        return min(job.completed_epochs, job.epoch_count - 1)
    return None


def failure_message(job: TuningJob) -> str | None:
    """Why a job stopped, in plain words, with Google's message kept."""
    state = job_state(job)
    google = f" Google said: {job.error_message}" if job.error_message else ""
    model = job.tuned_model.model if job.tuned_model else None
    if state is JobState.FAILED and job.error_code == ENDPOINT_FAILURE_CODE and model:
        return (
            "Tuning finished, but Vertex AI could not create the endpoint that serves the model. "
            f"The tuned model exists in the Model Registry as `{model}`: deploy it to an endpoint "
            "there (Cloud console → Vertex AI → Model Registry → the model → Deploy to endpoint, or "
            "`gcloud ai models list` and `gcloud ai endpoints deploy-model`) to use it, or remove it "
            f"with `/tune delete`.{google}"
        )
    if job.state == "JOB_STATE_EXPIRED":
        return (
            "The tuning job expired: Vertex AI gave up on it before it finished (a job that waits "
            "too long for quota or capacity expires). Start it again; nothing was trained." + google
        )
    if state is JobState.FAILED:
        return job.error_message or "the tuning job failed"
    if state is JobState.CANCELLED:
        return (
            job.error_message
            if job.error_message not in (None, "CANCELLED")
            else ("the tuning job was cancelled")
        )
    if job.state == "JOB_STATE_PARTIALLY_SUCCEEDED":
        return "Vertex AI reports that the job only partially succeeded." + google
    return None


def data_stats(job: TuningJob) -> DataStats | None:
    stats = job.data_stats
    if stats is None or (stats.billable_tokens is None and stats.example_count is None):
        return None
    return DataStats(
        examples=stats.example_count,
        billable_tokens=stats.billable_tokens,
        truncated_examples=stats.truncated_examples,
        dropped_reasons=stats.dropped_reasons,
    )


def checkpoints(job: TuningJob, eval_points: Sequence[SeriesPoint] = ()) -> tuple[Checkpoint, ...]:
    """The job's checkpoints, each with the eval loss at its step when known."""
    refs = job.tuned_model.checkpoints if job.tuned_model else ()
    by_step = {p.step: p.value for p in eval_points}
    return tuple(
        Checkpoint(
            checkpoint_id=ref.checkpoint_id,
            epoch=ref.epoch,
            step=ref.step,
            endpoint=ref.endpoint,
            eval_loss=by_step.get(ref.step) if ref.step is not None else None,
        )
        for ref in refs
    )


def sent_hyperparameters(job: TuningJob) -> SentHyperparameters | None:
    """What the job resource says the job received (None when it carries no tuning spec)."""
    if not job.spec_read:
        return None
    return SentHyperparameters(
        epoch_count=job.epoch_count,
        learning_rate_multiplier=job.learning_rate_multiplier,
        adapter_size=ADAPTER_SIZE_NUMBER.get(job.adapter_size or ""),
        export_last_checkpoint_only=job.export_last_checkpoint_only,
    )


def progress_from_job(job: TuningJob, metrics: MetricsSnapshot | None = None) -> JobProgress:
    state = job_state(job)
    total = job.total_steps
    step = metrics.train_max_step if metrics else None
    if state is JobState.SUCCEEDED and total is not None:
        step = total
    percent = 100.0 if state is JobState.SUCCEEDED else percent_done(job, metrics)
    return JobProgress(
        state=state,
        percent=percent,
        completed_steps=step,
        total_steps=total,
        epoch=current_epoch(job, metrics),
        error_message=failure_message(job),
        detail_state=detail_state(job),
        current_loss=metrics.train_loss.value if metrics and metrics.train_loss else None,
        eval_loss=metrics.eval_loss.value if metrics and metrics.eval_loss else None,
        started_at=job.start_time,
        data_stats=data_stats(job),
        checkpoints=checkpoints(job),
        tuned_model=job.tuned_model.model if job.tuned_model else None,
        error_code=job.error_code,
        hyperparameters=sent_hyperparameters(job),
    )


def loss_points(
    points: Sequence[SeriesPoint], total_steps: int | None, epoch_count: int | None
) -> tuple[LossPoint, ...]:
    return tuple(
        LossPoint(step=p.step, epoch=epoch_of_step(p.step, total_steps, epoch_count), mean_loss=p.value)
        for p in sorted(points, key=lambda p: p.step)
    )
