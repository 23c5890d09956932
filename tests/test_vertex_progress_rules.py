"""The pure rules behind Vertex progress: percent from maxStep (clamped) with completed
epochs as the fallback, sub-states and the rarer job states in words, plain-word failures,
training tokens and a cost only with a configured price."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.backends.vertex_progress import MetricsSnapshot, progress_from_job
from bot.domain.types import DataStats, JobState
from bot.polling.view import JobView
from bot.presentation.progress import completion_notice, progress_blocks
from bot.presentation.signature import progress_signature
from bot.vertex import SeriesPoint, TuningJob

NAME = "projects/p/locations/us-central1/tuningJobs/1"


def job(state: str = "JOB_STATE_RUNNING", **extra: Any) -> TuningJob:
    data: dict[str, Any] = {
        "name": NAME,
        "state": state,
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": {"hyperParameters": {"epochCount": "4"}},
        "tuningDataStats": {
            "supervisedTuningDataStats": {"tuningStepCount": "40", "totalBillableTokenCount": "1000"}
        },
        "startTime": "2026-12-01T10:00:00Z",
    }
    data.update(extra)
    return TuningJob.from_json(data)


def test_percent_is_max_step_over_step_count_clamped_with_epochs_as_fallback() -> None:
    assert progress_from_job(job(), MetricsSnapshot(train_max_step=10)).percent == 25.0
    assert progress_from_job(job(), MetricsSnapshot(train_max_step=55)).percent == 100.0  # clamped
    fallback = progress_from_job(job(tuningJobMetadata={"completedEpochCount": "3"}))
    assert fallback.percent == 75.0 and fallback.epoch == 3
    assert progress_from_job(job()).percent == 0.0
    step = progress_from_job(job(), MetricsSnapshot(train_max_step=21, train_loss=SeriesPoint(21, 0.5)))
    assert (step.completed_steps, step.epoch, step.mean_loss) == (21, 2, 0.5)
    assert progress_from_job(job("JOB_STATE_SUCCEEDED")).percent == 100.0


@pytest.mark.parametrize(
    ("state", "sub_state", "expected_state", "detail"),
    [
        ("JOB_STATE_RUNNING", "TUNING_JOB_STATE_WAITING_FOR_QUOTA", JobState.RUNNING, "waiting_for_quota"),
        ("JOB_STATE_RUNNING", "TUNING_JOB_STATE_PROCESSING_DATASET", JobState.RUNNING, "processing_dataset"),
        (
            "JOB_STATE_RUNNING",
            "TUNING_JOB_STATE_WAITING_FOR_CAPACITY",
            JobState.RUNNING,
            "waiting_for_capacity",
        ),
        ("JOB_STATE_RUNNING", "TUNING_JOB_STATE_POST_PROCESSING", JobState.RUNNING, "post_processing"),
        ("JOB_STATE_PAUSED", None, JobState.RUNNING, "paused"),
        ("JOB_STATE_UPDATING", None, JobState.RUNNING, "updating"),
        ("JOB_STATE_CANCELLING", None, JobState.RUNNING, "cancelling"),
        ("JOB_STATE_EXPIRED", None, JobState.FAILED, "expired"),
        ("JOB_STATE_PARTIALLY_SUCCEEDED", None, JobState.SUCCEEDED, "partially_succeeded"),
    ],
)
def test_states_and_sub_states_in_words(
    state: str, sub_state: str | None, expected_state: JobState, detail: str
) -> None:
    extra = {"tuningJobState": sub_state} if sub_state else {}
    progress = progress_from_job(job(state, **extra))
    assert progress.state is expected_state and progress.detail_state == detail
    text = _message_text(progress_view(progress.state.value, detail, progress.error_message))
    words = detail.replace("_", " ").replace("processing dataset", "preparing the dataset")
    assert words.replace("post processing", "post-processing") in text.lower()


def test_failures_in_plain_words() -> None:
    failed = progress_from_job(
        job(
            "JOB_STATE_FAILED",
            error={"code": 13, "message": "Failed to create endpoint. Tuned model is uploaded"},
            tunedModel={"model": "projects/p/locations/us-central1/models/9@1"},
        )
    )
    assert failed.error_code == 13 and failed.tuned_model == "projects/p/locations/us-central1/models/9@1"
    assert failed.error_message and "Model Registry" in failed.error_message
    assert "projects/p/locations/us-central1/models/9@1" in failed.error_message
    expired = progress_from_job(job("JOB_STATE_EXPIRED"))
    assert expired.error_message and "expired" in expired.error_message
    cancelled = progress_from_job(job("JOB_STATE_CANCELLED", error={"code": 1, "message": "CANCELLED"}))
    assert cancelled.error_message == "the tuning job was cancelled"


def progress_view(state: str, detail: str | None, error: str | None = None, **extra: Any) -> JobView:
    now = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    values: dict[str, Any] = {
        "job_id": 1,
        "display_name": "numbers",
        "model_name": NAME,
        "owner_user_id": "U1",
        "base_model": "gemini-2.5-flash",
        "state": state,
        "percent": 50.0,
        "completed_steps": 20,
        "total_steps": 40,
        "epoch": 1,
        "epoch_count": 4,
        "mean_loss": 0.5,
        "started_at": now - timedelta(minutes=30),
        "now": now,
        "error_message": error,
        "detail_state": detail,
    }
    values.update(extra)
    return JobView(**values)


def _message_text(view: JobView) -> str:
    text, blocks = progress_blocks(view) if view.state in ("queued", "running") else completion_notice(view)
    return text + "\n" + "\n".join(str(b) for b in blocks)


def test_training_tokens_and_a_counted_cost_only_with_a_price() -> None:
    stats = DataStats(
        examples=100, billable_tokens=250_000, truncated_examples=2, dropped_reasons=("too long",)
    )
    plain = _message_text(progress_view("running", "tuning", data_stats=stats))
    assert "250,000 billable tokens" in plain and "≈ 1,000,000 training tokens (× 4 epochs)" in plain
    assert "cost unknown: no price for `gemini-2.5-flash`" in plain  # unknown, never zero
    assert "2 truncated" in plain and "too long" in plain
    priced = _message_text(
        progress_view("running", "tuning", data_stats=stats, price_per_million_tokens=3.0, currency="EUR")
    )
    assert (
        "counted cost *EUR 3.00* from Vertex's billable tokens × 4 epochs at the configured EUR 3.00"
        in priced
    )
    # what these lines show is part of the change signature: a new count edits the message
    assert progress_signature(progress_view("running", "tuning", data_stats=stats)) != progress_signature(
        progress_view("running", "tuning")
    )


def test_eta_counts_from_when_tuning_started_not_from_the_queue() -> None:
    now = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    queued_long = progress_view("running", "tuning", tuning_started_at=now - timedelta(minutes=10))
    assert "about 10m 00s left" in _message_text(queued_long)  # 50% in 10 minutes
    assert "about 30m 00s left" in _message_text(progress_view("running", "tuning"))
