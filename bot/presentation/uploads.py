"""The replies to an upload: stored, already stored, or why not."""

from __future__ import annotations

from bot.datasets import ParsedDataset, format_problems
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.blocks import dataset_title
from bot.presentation.insight import insight_lines
from bot.presentation.limits import (
    skipped_rows_list,
    skipped_rows_text,
    stored_count_text,
    too_few_good_text,
)
from bot.services.datasets import NUMBER_NAME_PREFIX, DatasetName, dataset_reference, is_number_name
from bot.services.uploads import UploadOutcome
from bot.storage.models import Dataset

CHART_IN_DM_NOTE = "\n_The length chart is in your DM with me._"


def upload_text(outcome: UploadOutcome, *, chart_in_dm: bool = False, csv_in_dm: bool = False) -> str:
    """The reply to an upload; `chart_in_dm` when its length chart went to the user's DM,
    `csv_in_dm` when the CSV of its skipped rows did. A file read in place from Cloud
    Storage says so, and that it was not copied."""
    text = _upload_text(outcome, chart_in_dm=chart_in_dm, csv_in_dm=csv_in_dm)
    if outcome.source_uri is None:
        return text
    where = f"`{esc(outcome.source_uri)}`"
    if outcome.kind == "stored":
        return (
            text + f"\n:cloud: Read in place from Cloud Storage ({where}) and not copied: tunebot keeps "
            "its counts, not its examples, and Vertex AI reads it from there when you start tuning."
        )
    return text + f"\n_Read in place from Cloud Storage ({where}); nothing was copied._"


def cloud_upload_started_text(uri: str) -> str:
    """The ack of `/tune upload gs://…`: the answer comes privately once it is read."""
    return (
        f":hourglass_flowing_sand: Reading `{esc(uri)}` in place from Cloud Storage (it is not copied). "
        "I'll tell you here when it is validated."
    )


def _upload_text(outcome: UploadOutcome, *, chart_in_dm: bool, csv_in_dm: bool) -> str:
    if outcome.kind == "duplicate" and outcome.dataset is not None:
        return duplicate_message(outcome.file_name, outcome.dataset)
    if outcome.kind == "stored" and outcome.dataset is not None and outcome.parsed is not None:
        text = stored_message(
            outcome.dataset, outcome.parsed, wanted=outcome.wanted, asked=outcome.asked, csv_in_dm=csv_in_dm
        )
        return text + CHART_IN_DM_NOTE if chart_in_dm else text
    if outcome.storage_error is not None:
        return not_saved_message(f"`{esc(outcome.file_name)}`", outcome.storage_error)
    assert outcome.parsed is not None
    if outcome.too_few_good is not None:
        return too_few_good_text(outcome.parsed, outcome.too_few_good)
    return format_problems(outcome.parsed)


def not_saved_message(what: str, reason: str) -> str:
    return (
        f":x: tunebot could not save {what}: {esc(reason)}. Nothing was stored; try again later "
        "(tell whoever runs tunebot if it keeps happening)."
    )


def duplicate_message(file_name: str, existing: Dataset) -> str:
    return (
        f":information_source: `{esc(file_name)}` is already stored as dataset "
        f"{dataset_title(existing.display_name, existing.name)} "
        f"({existing.example_count:,} examples, uploaded by <@{existing.owner_user_id}>). "
        f"Start tuning with `/tune start {esc(dataset_reference(existing.name))}`."
    )


def name_note(dataset: Dataset, wanted: str | None, asked: DatasetName) -> str:
    """How to type the dataset when its display name is not its slug, and why it is not stored
    under the name asked for (empty when the names are one and as asked). The stored name is
    shown beside it already, so the note gives the reason only."""
    slug = f"`{esc(dataset_reference(dataset.name))}`"
    if dataset.display_name != dataset.name:
        if dataset.display_name != asked.display:
            return f" (type it as {slug}; *{esc(asked.display)}* exists)"
        return f" (type it as {slug})"
    if asked.slug is not None and dataset.name != asked.slug:
        return f" (`{esc(asked.slug)}` is taken)"
    digits = dataset.name.removeprefix(NUMBER_NAME_PREFIX)
    if (
        wanted is not None
        and digits != dataset.name
        and is_number_name(digits)
        and not wanted.strip().lower().startswith(NUMBER_NAME_PREFIX)
    ):
        return " (a name of only digits would read as a dataset's id)"
    return ""


# How an upload reply names the conversation format a file was read in (ParsedDataset.chat_format).
CHAT_FORMAT_NAMES = {"vertex": "Vertex AI tuning format", "openai": "OpenAI chat format"}


def stored_message(
    dataset: Dataset,
    parsed: ParsedDataset,
    *,
    wanted: str | None = None,
    asked: DatasetName | None = None,
    csv_in_dm: bool = False,
) -> str:
    note = name_note(dataset, wanted, asked or DatasetName(dataset.display_name, dataset.name))
    columns = ""
    if parsed.input_column and parsed.output_column:
        columns = f" (input `{esc(parsed.input_column)}`, output `{esc(parsed.output_column)}`)"
    elif parsed.chat_format in CHAT_FORMAT_NAMES:
        columns = f" ({CHAT_FORMAT_NAMES[parsed.chat_format]})"
    warnings = "".join(f"\n:warning: {esc(w)}" for w in parsed.warnings[:5])
    skipped = skipped_rows_text(dataset, csv_in_dm=csv_in_dm) if dataset.skipped_count else ""
    rows = "\n" + skipped_rows_list(parsed) if dataset.skipped_count else ""
    insight = ""
    if parsed.insight is not None:
        insight = "\n" + "\n".join(insight_lines(parsed.insight))
    return (
        f":white_check_mark: Stored dataset *{esc(dataset.display_name)}*{note}: "
        f"{stored_count_text(dataset)} from `{esc(dataset.file_name)}`{columns}{skipped}.\n"
        f"Start tuning with `/tune start {esc(dataset_reference(dataset.name))}`.{rows}{warnings}{insight}"
    )


def file_too_big_text(name: str, size: str, limit: str) -> str:
    """`size` and `limit` as `downloads.describe_size` words them."""
    return f":x: `{esc(name)}` is {size}; the limit is {limit}. Nothing was stored."


def no_download_link_text(name: str) -> str:
    return f":x: Slack gave me no download link for `{esc(name)}`."


def fetch_failed_text(name: str, reason: str) -> str:
    return f":x: Could not fetch `{esc(name)}`: {reason} Nothing was stored."


def lengths_chart_title(dataset: str) -> str:
    """The title drawn on a dataset's length chart."""
    return f"Lengths in dataset {dataset}"


def lengths_chart_file_name(dataset_id: int | None) -> str:
    return f"tunebot-dataset-{dataset_id}-lengths.png"


def lengths_chart_file_title(dataset: str) -> str:
    """The title of a dataset's length chart file."""
    return f"Input and output lengths — {dataset}"


CHOOSE_FILE_TEXT = "Choose a file to upload."  # the upload modal's file field, left empty


def too_many_files_text(limit: int) -> str:
    """More files in one message than are read."""
    return f"I only read the first {limit} files."
