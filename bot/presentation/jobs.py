"""Replies about starting a job (its progress message is in `progress`)."""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc
from bot.services.jobs import ValidationSet
from bot.storage.models import TuningJob


def validation_note(held: ValidationSet | None) -> str | None:
    """What `/tune start` tells the user about the job's validation set, if it has one."""
    if held is None:
        return None
    count = held.example_count
    examples = f"{count:,} example{'s' if count != 1 else ''}"
    if held.source == "split":
        what = f"Held out *{examples}* ({held.percent:g}% of the dataset)"
    else:
        name = held.dataset_name or "the validation dataset"
        what = f"Using *{examples}* from dataset *{esc(name)}*"
    if held.source_uri is not None:
        evaluation = (
            f"The held-out evaluation after the job scores its first {held.evaluated:,}."
            if held.evaluated
            else "tunebot could not read its first examples, so the held-out evaluation after the job "
            "is skipped (the eval loss is still reported)."
        )
        return (
            f":test_tube: {what} as the validation set: Vertex AI reads them in place from "
            f"`{esc(held.source_uri)}` (not copied) and reports the eval loss on them. {evaluation}"
        )
    if held.sent:
        return (
            f":test_tube: {what} as the validation set: they are never trained on, were uploaded as a "
            "second file, and the tuning service reports the eval loss on them."
        )
    return (
        f":test_tube: {what} for evaluation: they are never trained on. The Gemini API takes no "
        "validation set, so they were not sent and *no eval loss will be reported*; tunebot keeps "
        "them to evaluate the tuned model."
    )


def progress_not_posted_text(job: TuningJob) -> str:
    """A job started but Slack would not take its progress message in the channel."""
    return (
        f"Tuning *{esc(job.display_name)}* started (`{esc(job.model_name or '')}`), but I could not post "
        "its progress message here. Invite me to this channel with `/invite @tunebot`; "
        "`/tune status` shows progress meanwhile."
    )


def starting_text(dataset: str, estimate: str) -> str:
    """The answer to `/tune start <dataset> …` while the job is started."""
    return f":hourglass: Starting tuning on dataset `{esc(dataset)}`… {estimate}"


def no_such_job_text(wanted: str) -> str:
    """`/tune status <wanted>` when none of the user's jobs is that one."""
    return f"You have no job `{esc(wanted)}`. `/tune status` lists yours."


CHOOSE_DATASET_TEXT = "Choose a dataset."  # the start modal's dataset field, left empty
CHECKPOINT_NEEDS_MODEL_TEXT = "A checkpoint is of the model you continue from: fill in that model too."


def no_validation_dataset_text(wanted: str) -> str:
    """The start modal's validation field naming a dataset there is none of (plain text)."""
    return f"There is no dataset {wanted}. Write a share such as 10%."


def loss_chart_title(display_name: str) -> str:
    """The title drawn on a job's loss chart."""
    return f"{display_name} — loss"


def loss_chart_file_title(display_name: str) -> str:
    """The title of a job's loss chart file."""
    return f"Loss curve — {display_name}"


def loss_chart_file_name(job_id: int | None) -> str:
    """The file name of a job's loss chart (also how a posted chart is recognised)."""
    return f"tunebot-job-{job_id}-loss.png"
