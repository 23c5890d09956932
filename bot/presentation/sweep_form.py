"""The sweep form: `/tune sweep` alone (its submission is bot/listeners/views/sweep.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.sweeps import RANK_BY
from bot.domain.types import BaseModelChoice
from bot.presentation.blocks import dataset_select, metadata, plain
from bot.presentation.text import plain_text

SWEEP_CALLBACK = "tune_sweep"

RANK_BY_LABELS = {
    "win_rate": "Win rate against the base model",
    "eval_loss": "Eval loss (lowest)",
    "exact": "Exact match",
    "similarity": "Similarity",
}


def _grid_input(block_id: str, label: str, placeholder: str, hint: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": plain(label),
        "element": {"type": "plain_text_input", "action_id": block_id, "placeholder": plain(placeholder)},
        "hint": plain(hint),
    }


def sweep_modal(
    channel_id: str,
    user_id: str,
    dataset_names: Sequence[str],
    base_models: Sequence[BaseModelChoice],
    *,
    sweep_max: int,
    display_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The sweep form: the dataset, the grid (comma-separated values; base models chosen from
    the backend's list), the validation set every variant holds out, what ranks them, a name.
    `dataset_names` are slugs, `display_names` what each is shown as."""
    every = f"Comma-separated values; every combination is started, at most {sweep_max} (TUNEBOT_SWEEP_MAX)."
    ranks = [{"text": plain(RANK_BY_LABELS.get(key, key)), "value": key} for key in RANK_BY]
    return {
        "type": "modal",
        "callback_id": SWEEP_CALLBACK,
        "private_metadata": metadata(channel_id, user_id),
        "title": plain("Start a sweep"),
        "submit": plain("Start"),
        "close": plain("Cancel"),
        "blocks": [
            dataset_select(dataset_names, display_names),
            _grid_input("epochs", "Epochs", "e.g. 2,4", every),
            _grid_input("learning_rate_multiplier", "Learning-rate multipliers", "e.g. 0.5,1", every),
            _grid_input("adapter_size", "Adapter sizes", "e.g. 4,8 (1, 2, 4, 8 or 16)", every),
            {
                "type": "input",
                "block_id": "base_model",
                "optional": True,
                "label": plain("Base models"),
                "element": {
                    "type": "multi_static_select",
                    "action_id": "base_model",
                    "placeholder": plain("left empty, the default base model"),
                    "options": [{"text": plain(m.label[:75]), "value": m.name[:150]} for m in base_models],
                },
                "hint": plain("Each one chosen is a value of the grid, like the fields above."),
            },
            {
                "type": "input",
                "block_id": "validation",
                "label": plain("Validation set"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "validation",
                    "placeholder": plain("10% or a dataset name"),
                    "initial_value": "10%",
                },
                "hint": plain("Every variant holds out the same examples, so their scores compare."),
            },
            {
                "type": "input",
                "block_id": "rank_by",
                "label": plain("Rank by"),
                "element": {
                    "type": "static_select",
                    "action_id": "rank_by",
                    "options": ranks,
                    "initial_option": ranks[0],
                },
            },
            {
                "type": "input",
                "block_id": "name",
                "optional": True,
                "label": plain("Name"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "name",
                    "placeholder": plain("left empty, the dataset's; each variant adds its settings"),
                },
            },
        ],
    }


def sweep_field_error(text: str) -> str:
    """One of `/tune sweep`'s answers (mrkdwn) as a form field's error (plain text)."""
    return plain_text(text.removeprefix(":x: "))
