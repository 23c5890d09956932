"""Replies about stored datasets: what is in one, what a start on it costs, rename and delete."""

from __future__ import annotations

from collections.abc import Sequence

from bot.datasets.insight import DatasetInsight
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.insight import insight_lines, training_estimate
from bot.presentation.uploads import name_note
from bot.services.datasets import DatasetDeleted, DatasetRenamed, StartEstimate, dataset_reference
from bot.storage.models import Dataset


def dataset_detail_text(dataset: Dataset, insight: DatasetInsight) -> str:
    """`/tune datasets <name>`: the dataset and what is in it."""
    head = (
        f"*{esc(dataset.name)}* — {dataset.example_count:,} examples ({dataset.format.upper()}, "
        f"`{esc(dataset.file_name)}`, uploaded by <@{dataset.owner_user_id}>)"
    )
    return "\n".join(
        [
            head,
            *insight_lines(insight),
            f"Start tuning with `/tune start {esc(dataset_reference(dataset.name))}`.",
        ]
    )


def start_estimate_text(estimate: StartEstimate) -> str:
    """For a start: estimated training tokens (tokens × epochs) and, when priced, the cost."""
    return training_estimate(
        estimate.insight,
        epochs=estimate.epochs,
        base_model=estimate.base_model,
        prices=estimate.prices,
        currency=estimate.currency,
        share=estimate.share,
    )


def unknown_dataset_message(wanted: str, names: Sequence[str]) -> str:
    if not names:
        return f"There is no dataset `{esc(wanted)}`, and no datasets yet. Upload one with `/tune upload`."
    shown = ", ".join(f"`{esc(dataset_reference(n))}`" for n in names[:15])
    more = f" and {len(names) - 15} more" if len(names) > 15 else ""
    return f"There is no dataset `{esc(wanted)}`. Datasets: {shown}{more}. `/tune datasets` lists yours."


def dataset_deleted_text(deleted: DatasetDeleted) -> str:
    return (
        f":wastebasket: Deleted dataset *{esc(deleted.name)}* ({deleted.example_count:,} examples). "
        "Models tuned on it are kept."
    )


def dataset_renamed_text(renamed: DatasetRenamed) -> str:
    note = name_note(renamed.new, renamed.wanted, renamed.cleaned)
    return f":pencil2: Renamed dataset `{esc(renamed.old)}` to *{esc(renamed.new)}*{note}."


def start_form_estimate_text(estimate: StartEstimate) -> str:
    """The estimate told after a start from the modal."""
    return "For this start: " + start_estimate_text(estimate)


def looking_at_text(name: str) -> str:
    """`/tune datasets <name>` while a dataset stored without its insight is read."""
    return f":mag: Looking at *{esc(name)}*…"


CHART_FOLLOWS_NOTE = "\n_The length chart follows in a DM._"
