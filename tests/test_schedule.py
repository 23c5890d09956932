"""Polling slows down for a job that does not move and speeds up when it does."""

from __future__ import annotations

from bot.domain.backoff import Backoff
from bot.domain.types import JobProgress, JobState, LossPoint
from bot.polling.schedule import moved, progress_changes
from bot.storage.models import TuningJob


def make_job(**fields: object) -> TuningJob:
    values: dict[str, object] = {
        "team_id": "T",
        "owner_user_id": "U",
        "channel_id": "C",
        "display_name": "n",
        "base_model": "b",
        "epoch_count": 5,
        "batch_size": 2,
        "learning_rate": 0.001,
        "total_steps": 38,
    }
    values.update(fields)
    return TuningJob(**values)  # type: ignore[arg-type]


def test_backoff_grows_to_a_ceiling_and_resets_on_progress() -> None:
    backoff = Backoff(base_seconds=10, max_seconds=240)
    waits = [10.0]
    for _ in range(6):
        waits.append(backoff.after_no_progress(waits[-1]))
    assert waits == [10, 20, 40, 80, 160, 240, 240]
    assert backoff.after_progress() == 10
    assert backoff.after_error(10, retry_after=90) == 90


def test_a_poll_that_moved_changes_percent_steps_and_loss() -> None:
    job = make_job(state="running", percent=10.0, completed_steps=4)
    progress = JobProgress(JobState.RUNNING, 26.3, 10, 38, 1, (LossPoint(5, 0, 4.2), LossPoint(10, 1, 3.1)))
    changes = progress_changes(job, progress)
    assert changes == {"percent": 26.3, "completed_steps": 10, "epoch": 1, "mean_loss": 3.1}
    assert moved(changes)


def test_a_poll_that_did_not_move_changes_nothing() -> None:
    job = make_job(state="running", percent=26.3, completed_steps=10, epoch=1, mean_loss=3.1)
    progress = JobProgress(JobState.RUNNING, 26.3, 10, 38, 1, (LossPoint(10, 1, 3.1),))
    assert progress_changes(job, progress) == {}
    assert not moved({})


def test_success_fills_in_the_last_step() -> None:
    job = make_job(state="running", percent=97.0, completed_steps=37)
    changes = progress_changes(job, JobProgress(JobState.SUCCEEDED, 100.0, None, 38))
    assert changes["state"] == "succeeded" and changes["completed_steps"] == 38
