"""Replies about stored datasets: what is in one, what a start on it costs, rename and delete."""

from __future__ import annotations

from collections.abc import Sequence

from bot.datasets.insight import DatasetInsight
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.blocks import (
    ACTION_DELETE_DATASET,
    ACTION_KEEP_DATASET,
    Block,
    dataset_title,
    plain,
    section,
)
from bot.presentation.costs import estimate_text
from bot.presentation.insight import insight_lines
from bot.presentation.limits import dataset_skipped_note
from bot.presentation.uploads import name_note
from bot.services.datasets import (
    DatasetDeleted,
    DatasetDeletePrompt,
    DatasetRenamed,
    StartEstimate,
    dataset_reference,
)
from bot.storage.models import Dataset


def dataset_detail_text(dataset: Dataset, insight: DatasetInsight) -> str:
    """`/tune datasets <name>`: the dataset and what is in it."""
    source = (
        f"read in place from `{esc(dataset.source_uri)}` (not copied) by <@{dataset.owner_user_id}>"
        if dataset.source_uri
        else f"uploaded by <@{dataset.owner_user_id}>"
    )
    head = (
        f"{dataset_title(dataset.display_name, dataset.name)} — {dataset.example_count:,} examples "
        f"({dataset.format.upper()}, `{esc(dataset.file_name)}`, {source})"
        f"{dataset_skipped_note(dataset)}"
    )
    return "\n".join(
        [
            head,
            *insight_lines(insight),
            f"Start tuning with `/tune start {esc(dataset_reference(dataset.name))}`.",
        ]
    )


def start_estimate_text(estimate: StartEstimate) -> str:
    """For a start: estimated training tokens (tokens × epochs), the validation set's
    evaluations and, when priced, the cost (unknown without a price)."""
    return estimate_text(estimate.cost, share=estimate.share, validation_name=estimate.validation_dataset)


def unknown_dataset_message(wanted: str, names: Sequence[str]) -> str:
    if not names:
        return f"There is no dataset `{esc(wanted)}`, and no datasets yet. Upload one with `/tune upload`."
    shown = ", ".join(f"`{esc(dataset_reference(n))}`" for n in names[:15])
    more = f" and {len(names) - 15} more" if len(names) > 15 else ""
    return f"There is no dataset `{esc(wanted)}`. Datasets: {shown}{more}. `/tune datasets` lists yours."


def dataset_delete_prompt(prompt: DatasetDeletePrompt) -> tuple[str, list[Block]]:
    """`/tune dataset delete`: what is deleted, which jobs used it, and Delete / Cancel."""
    typed = "" if prompt.display_name == prompt.slug else f", `{esc(dataset_reference(prompt.slug))}`"
    count = len(prompt.job_names)
    if count:
        shown = ", ".join(esc(n) for n in prompt.job_names[:10])
        more = f" and {count - 10} more" if count > 10 else ""
        used = f"It is used by {count} job{'s' if count != 1 else ''}: {shown}{more}; the models stay."
    else:
        used = "No job was tuned on it."
    text = (
        f"Delete dataset *{esc(prompt.display_name)}* ({prompt.example_count:,} examples{typed})? {used} "
        "Its examples are deleted for everyone; this cannot be undone."
    )
    value = str(prompt.dataset_id)
    delete = {
        "type": "button",
        "action_id": ACTION_DELETE_DATASET,
        "style": "danger",
        "text": plain("Delete"),
        "value": value,
    }
    cancel = {"type": "button", "action_id": ACTION_KEEP_DATASET, "text": plain("Cancel"), "value": value}
    return f"Delete dataset {esc(prompt.display_name)}?", [
        section(text),
        {"type": "actions", "elements": [delete, cancel]},
    ]


def dataset_deleted_text(deleted: DatasetDeleted) -> str:
    if deleted.name is None:
        return "That dataset is already deleted."
    return (
        f":wastebasket: Deleted dataset *{esc(deleted.name)}* ({deleted.example_count:,} examples). "
        "Models tuned on it are kept."
    )


def dataset_kept_text(display_name: str | None) -> str:
    """Cancel on the delete prompt."""
    if display_name is None:
        return "That dataset is already deleted."
    return f"Kept dataset *{esc(display_name)}*."


def dataset_renamed_text(renamed: DatasetRenamed) -> str:
    dataset = renamed.dataset
    note = name_note(dataset, renamed.wanted, renamed.asked)
    return f":pencil2: Renamed dataset *{esc(renamed.old)}* to *{esc(dataset.display_name)}*{note}."


def start_form_estimate_text(estimate: StartEstimate) -> str:
    """The estimate told after a start from the modal."""
    return "For this start: " + start_estimate_text(estimate)


def start_form_live_estimate(estimate: StartEstimate | None, problem: str | None = None) -> str:
    """The start form's estimate block as its fields change: the estimate, or what is missing
    (`problem`: plain text from a field's check) before there is one."""
    if problem:
        return f":warning: {esc(problem)}"
    if estimate is None:
        return ""  # no dataset chosen yet: the block's prompt
    return ":moneybag: " + start_estimate_text(estimate)


def looking_at_text(name: str) -> str:
    """`/tune datasets <name>` while a dataset stored without its insight is read."""
    return f":mag: Looking at *{esc(name)}*…"


CHART_FOLLOWS_NOTE = "\n_The length chart follows in a DM._"
