"""Block Kit for everything tunebot shows, except job progress (see bot/render).

Every piece of text that came from a user, a file or a model goes through `esc`
so it cannot ping anyone or break the formatting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.render.text import escape_mrkdwn as esc
from bot.storage.models import TuningJob
from bot.storage.store import DatasetSummary
from bot.tuning.types import BaseModelChoice, ModelPage, ModelState

Block = dict[str, Any]

UPLOAD_CALLBACK = "tune_upload"
START_CALLBACK = "tune_start"
ACTION_LIST_PAGE = "tune_list_page"
ACTION_DELETE = "tune_delete_model"
ACTION_TRY = "tune_try_model"

MODEL_STATE_LABEL = {
    ModelState.TUNING: ":hourglass_flowing_sand: tuning",
    ModelState.READY: ":large_green_circle: ready",
    ModelState.FAILED: ":red_circle: failed",
    ModelState.UNKNOWN: ":grey_question: unknown",
}

JOB_STATE_LABEL = {
    "queued": ":hourglass: queued",
    "running": ":hourglass_flowing_sand: tuning",
    "succeeded": ":large_green_circle: done",
    "failed": ":red_circle: failed",
    "cancelled": ":no_entry_sign: cancelled",
    "lost": ":grey_question: lost",
}


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


HELP_LINES = (
    ("`/tune upload`", "upload a CSV, TSV, JSON, JSONL or API-body file of input/output examples"),
    ("`/tune datasets [name]`", "your datasets, or what is in one (lengths, duplicates, a chart)"),
    (
        '`/tune start <dataset> [name="…"] [epochs=5] [batch_size=2] [learning_rate=0.001] [base_model=…] '
        "[validation=10%]`",
        "start tuning (or `/tune start` alone for a form)",
    ),
    ("`/tune status [job]`", "how your tuning jobs are doing"),
    ("`/tune list`", "tuned models, with their owners"),
    ("`/tune try <model> <prompt>`", "ask a tuned model; reply in the thread to keep talking"),
    ("`/tune compare <model> <prompt>`", "the tuned model and its base model side by side, in a thread"),
    ("`/tune eval <model> <dataset>`", "score a tuned model against its base model on a dataset's examples"),
    ("`/tune delete <model>`", "delete a model you own (asks first)"),
)


def help_blocks(note: str | None = None) -> tuple[str, list[Block]]:
    lines = "\n".join(f"• {cmd} — {what}" for cmd, what in HELP_LINES)
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks.append(section("*tunebot* fine-tunes Gemini models from Slack.\n" + lines))
    blocks.append(context("You can also mention me in a message with a file attached to upload it."))
    return (note + "\n" if note else "") + "tunebot commands: " + ", ".join(c for c, _ in HELP_LINES), blocks


def metadata(channel_id: str, user_id: str) -> str:
    return json.dumps({"channel_id": channel_id, "user_id": user_id})


def upload_modal(channel_id: str, user_id: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": UPLOAD_CALLBACK,
        "private_metadata": metadata(channel_id, user_id),
        "title": plain("Upload examples"),
        "submit": plain("Upload"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "file",
                "label": plain("Example file"),
                "element": {
                    "type": "file_input",
                    "action_id": "file",
                    "filetypes": ["csv", "tsv", "json", "jsonl", "txt"],
                    "max_files": 1,
                },
                "hint": plain("CSV/TSV with a header, a JSON array, JSONL, or the API's examples body."),
            },
            _text_input("name", "Dataset name", "e.g. next-number", optional=True),
            _text_input("input_column", "Input column", "text_input, input, prompt…", optional=True),
            _text_input("output_column", "Output column", "output, response…", optional=True),
        ],
    }


def _text_input(
    block_id: str, label: str, placeholder: str, *, optional: bool, initial: str | None = None
) -> Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": block_id,
        "placeholder": plain(placeholder),
    }
    if initial is not None:
        element["initial_value"] = initial
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label),
        "element": element,
    }


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label[:75]), "value": value[:150]}


def start_modal(
    channel_id: str,
    user_id: str,
    dataset_names: Sequence[str],
    base_models: Sequence[BaseModelChoice],
) -> dict[str, Any]:
    dataset_options = [_option(name, name) for name in dataset_names[:100]]
    model_options = [_option(m.name, m.label) for m in base_models]
    return {
        "type": "modal",
        "callback_id": START_CALLBACK,
        "private_metadata": metadata(channel_id, user_id),
        "title": plain("Start tuning"),
        "submit": plain("Start"),
        "close": plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "dataset",
                "label": plain("Dataset"),
                "element": {"type": "static_select", "action_id": "dataset", "options": dataset_options},
            },
            _text_input("name", "Model name", "number generator", optional=True),
            _text_input("epochs", "Epochs", "5", optional=False, initial="5"),
            _text_input("batch_size", "Batch size", "2", optional=False, initial="2"),
            _text_input("learning_rate", "Learning rate", "0.001", optional=False, initial="0.001"),
            {
                **_text_input("validation", "Validation set", "10% or a dataset name", optional=True),
                "hint": plain("Held out of training; the eval loss is charted when the backend reports it."),
            },
            {
                "type": "input",
                "block_id": "base_model",
                "label": plain("Base model"),
                "element": {
                    "type": "static_select",
                    "action_id": "base_model",
                    "options": model_options,
                    "initial_option": model_options[0],
                },
            },
        ],
    }


def no_datasets_text() -> str:
    return "You have no datasets yet. Upload one with `/tune upload` first."


def datasets_blocks(summaries: Sequence[DatasetSummary]) -> tuple[str, list[Block]]:
    if not summaries:
        text = no_datasets_text()
        return text, [section(text)]
    blocks: list[Block] = [section(f"*Your datasets* ({len(summaries)})")]
    for item in summaries[:45]:
        d = item.dataset
        used = ", ".join(esc(n) for n in item.job_names[:5]) if item.job_names else "no jobs yet"
        if len(item.job_names) > 5:
            used += f" and {len(item.job_names) - 5} more"
        blocks.append(
            section(
                f"*{esc(d.name)}* — {d.example_count:,} examples ({d.format.upper()}, `{esc(d.file_name)}`)\n"
                f"uploaded {when(d.created_at)} · used by: {used}"
            )
        )
    return f"You have {len(summaries)} datasets.", blocks


def status_blocks(jobs: Sequence[TuningJob]) -> tuple[str, list[Block]]:
    if not jobs:
        text = "You have no tuning jobs. Start one with `/tune start <dataset>`."
        return text, [section(text)]
    blocks: list[Block] = [section(f"*Your tuning jobs* ({len(jobs)})")]
    for job in jobs[:45]:
        steps = f" · step {job.completed_steps} / {job.total_steps}" if job.total_steps else ""
        error = f"\n> {esc(job.error_message)}" if job.error_message else ""
        blocks.append(
            section(
                f"*#{job.id} {esc(job.display_name)}* — {JOB_STATE_LABEL.get(job.state, job.state)} "
                f"{job.percent:.0f}%{steps}\n`{esc(job.model_name or '')}` · started {when(job.created_at)}"
                f"{error}"
            )
        )
    return f"You have {len(jobs)} tuning jobs.", blocks


def models_page_blocks(
    page: ModelPage,
    owners: dict[str, str],
    *,
    page_number: int,
    previous_tokens: Sequence[str],
    current_token: str | None,
) -> tuple[str, list[Block]]:
    if not page.models and page_number == 1:
        text = "There are no tuned models yet. Start one with `/tune start <dataset>`."
        return text, [section(text)]
    blocks: list[Block] = [section(f"*Tuned models* — page {page_number}")]
    for model in page.models:
        owner = f"<@{owners[model.name]}>" if model.name in owners else "outside tunebot"
        blocks.append(
            section(
                f"*{esc(model.display_name)}* — {MODEL_STATE_LABEL[model.state]}\n"
                f"`{esc(model.name)}` · base `{esc(model.base_model)}` · owner: {owner}"
            )
        )
    buttons: list[Block] = []
    if page_number > 1:
        back = list(previous_tokens)
        target = back.pop() if back else ""
        buttons.append(_page_button("Previous", page_number - 1, target, back))
    if page.next_page_token:
        forward = [*previous_tokens, current_token or ""]
        buttons.append(_page_button("Next", page_number + 1, page.next_page_token, forward))
    if buttons:
        blocks.append({"type": "actions", "block_id": "list_pages", "elements": buttons})
    return f"Tuned models, page {page_number}", blocks


def _page_button(label: str, page_number: int, token: str, history: Sequence[str]) -> Block:
    value = json.dumps({"p": page_number, "t": token, "h": list(history)}, separators=(",", ":"))
    if len(value) > 2000:  # Slack's limit on a button value: keep the way forward, drop old history
        value = json.dumps({"p": page_number, "t": token, "h": []}, separators=(",", ":"))
    return {
        "type": "button",
        "action_id": f"{ACTION_LIST_PAGE}_{label.lower()}",
        "text": plain(label),
        "value": value,
    }


def parse_page_value(value: str) -> tuple[int, str | None, list[str]]:
    data = json.loads(value)
    return int(data["p"]), (data.get("t") or None), [str(t) for t in data.get("h", [])]


def delete_prompt_blocks(model_name: str, display_name: str) -> tuple[str, list[Block]]:
    text = f"Delete tuned model *{esc(display_name)}* (`{esc(model_name)}`)? This cannot be undone."
    button = {
        "type": "button",
        "action_id": ACTION_DELETE,
        "style": "danger",
        "text": plain("Delete"),
        "value": model_name,
        "confirm": {
            "title": plain("Delete this model?"),
            "text": {"type": "mrkdwn", "text": f"`{esc(model_name)}` will be deleted for everyone."},
            "confirm": plain("Delete"),
            "deny": plain("Cancel"),
            "style": "danger",
        },
    }
    return f"Delete {model_name}?", [section(text), {"type": "actions", "elements": [button]}]


def try_prompt_text(user_id: str, model_name: str, prompt: str) -> str:
    return f"<@{user_id}> asked `{esc(model_name)}`:\n>{esc(prompt)}"


def try_started_text(user_id: str, model_name: str) -> str:
    return (
        f"<@{user_id}> is trying `{esc(model_name)}`. Reply in this thread and the model will answer "
        "each message."
    )


def thinking_text(model_name: str) -> str:
    return f"_`{esc(model_name)}` is thinking…_"
