"""Block Kit for everything tunebot shows, except job progress (see progress.py).

Every piece of text that came from a user, a file or a model goes through `esc`
so it cannot ping anyone or break the formatting.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.domain.types import BaseModelChoice, ModelState, ModelSummary
from bot.presentation.costs import ESTIMATE_FIELDS, start_estimate_block
from bot.presentation.limits import dataset_skipped_note
from bot.presentation.progress import STATE_EMOJI, STATE_LABEL
from bot.presentation.text import prompt_echo
from bot.services.conversation import SystemChoice
from bot.services.datasets import dataset_reference
from bot.storage.models import TuningJob
from bot.storage.repositories.datasets import DatasetSummary

Block = dict[str, Any]

UPLOAD_CALLBACK = "tune_upload"
START_CALLBACK = "tune_start"
ACTION_LIST_PAGE = "tune_list_page"
ACTION_DATASETS_PAGE = "tune_datasets_page"
DATASETS_PAGE_SIZE = 10
ACTION_DELETE = "tune_delete_model"
ACTION_TRY = "tune_try_model"
ACTION_DELETE_DATASET = "tune_delete_dataset"
ACTION_KEEP_DATASET = "tune_keep_dataset"


def state_badge(state: str) -> str:
    """One vocabulary for a job's state everywhere: the job message, `/tune status`, the Home tab."""
    return f"{STATE_EMOJI.get(state, ':grey_question:')} {STATE_LABEL.get(state, esc(state))}"


# A model's state in the words of the job that made it.
MODEL_STATE_LABEL = {
    ModelState.TUNING: state_badge("running"),
    ModelState.READY: state_badge("succeeded"),
    ModelState.FAILED: state_badge("failed"),
    ModelState.UNKNOWN: ":grey_question: unknown",
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
    (
        "`/tune upload`",
        "upload examples: Vertex AI tuning JSONL, OpenAI chat JSONL, or input/output pairs in "
        "CSV, TSV, JSON or JSONL (an optional `system` column)",
    ),
    (
        "`/tune upload gs://bucket/file.jsonl [name]`",
        "on Vertex AI, a Vertex JSONL file already in Cloud Storage, validated where it is (not copied)",
    ),
    ("`/tune datasets [name]`", "your datasets, or what is in one (lengths, duplicates, a chart)"),
    ("`/tune dataset delete|rename <name> [new name]`", "delete or rename one of your datasets"),
    (
        '`/tune start <dataset> [name="…"] [epochs=N] [base_model=…] [validation=10%]`',
        "start tuning (or `/tune start` alone for a form); on Vertex AI also "
        "`learning_rate_multiplier=1.0` `adapter_size=4` `export_last_checkpoint_only=true` "
        "`from=<model> checkpoint=N` (tune further from a tuned model), "
        "on the Gemini API `batch_size=2` `learning_rate=0.001`",
    ),
    (
        "`/tune sweep <dataset> epochs=2,4 learning_rate_multiplier=0.5,1 validation=10%`",
        "Vertex AI: one job per combination, all on the same held-out examples, with a leaderboard "
        "(also `adapter_size=4,8` `base_model=a,b` `rank_by=win_rate|eval_loss|exact|similarity`; "
        "`/tune sweep` alone for a form); `/tune sweep cancel <n>` stops it",
    ),
    ("`/tune status [job]`", "how your tuning jobs are doing"),
    ("`/tune list [mine|all]`", "tuned models, with their owners"),
    (
        '`/tune try <model> [checkpoint=N] [system="…"] <prompt>`',
        "ask a tuned model (or one of its checkpoints); reply in the thread to keep talking "
        "(it sends the thread's turns and its dataset's system instruction)",
    ),
    ("`/tune compare <model> <prompt>`", "the tuned model and its base model side by side, in a thread"),
    (
        "`/tune eval <model>[,<model>,…] <dataset>`",
        "score tuned models against their base models on a dataset's examples (several: a leaderboard)",
    ),
    ("`/tune delete <model>`", "delete a model you own (asks first)"),
    (
        "`/tune promote <model> as <alias>`",
        "give a model a team alias (`prod`), typed wherever a model is; `/tune aliases` lists them",
    ),
    (
        "`/tune cancel <model>`",
        "stop a job still tuning (yours, or as an admin or its approver; asks first): its saved "
        "checkpoints stay usable",
    ),
    (
        "`/tune audit [YYYY-MM]`",
        "admins: the month's audit log (starts, approvals, cancels, deletes…) and its CSV; "
        "append-only, nothing in it can be changed from Slack",
    ),
    (
        "`/tune policy`",
        "who may start jobs, the limits and the approvers (admins: `/tune policy set <key> <value>`)",
    ),
    (
        "`/tune spend [YYYY-MM] [csv]`",
        "the month's spend by person and channel, what is still billing; a CSV",
    ),
)


def help_blocks(note: str | None = None) -> tuple[str, list[Block]]:
    lines = "\n".join(f"• {cmd} — {what}" for cmd, what in HELP_LINES)
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    blocks.append(section("*tunebot* fine-tunes Gemini models from Slack.\n" + lines))
    blocks.append(context("You can also mention me in a message with a file attached to upload it."))
    return (note + "\n" if note else "") + "tunebot commands: " + ", ".join(c for c, _ in HELP_LINES), blocks


def mention_help_text() -> str:
    """A mention of the bot without a file: how to upload one, then the commands."""
    text, _ = help_blocks()
    return (
        "Attach an example file to a message that mentions me to upload it (write *skip bad rows* "
        "in the message to store the good examples of a file with bad rows), or use `/tune upload`. " + text
    )


def metadata(channel_id: str, user_id: str) -> str:
    return json.dumps({"channel_id": channel_id, "user_id": user_id})


SKIP_BAD_ROWS = "skip_bad_rows"  # the upload modal's checkbox (block, action and value)


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
                "hint": plain(
                    "Vertex AI or OpenAI chat JSONL, CSV/TSV with a header, a JSON array, JSONL pairs, "
                    "or the API's examples body."
                ),
            },
            _text_input("name", "Dataset name", "any name, e.g. Support QA", optional=True),
            _text_input("input_column", "Input column", "text_input, input, prompt…", optional=True),
            _text_input("output_column", "Output column", "output, response…", optional=True),
            {
                "type": "input",
                "block_id": SKIP_BAD_ROWS,
                "optional": True,
                "label": plain("Bad rows"),
                "hint": plain("Problems with the whole file (encoding, size, header) still refuse it."),
                "element": {
                    "type": "checkboxes",
                    "action_id": SKIP_BAD_ROWS,
                    "options": [
                        {
                            "text": plain("Skip bad rows"),
                            "description": plain("Store the good examples; list the rows left out (a CSV)"),
                            "value": SKIP_BAD_ROWS,
                        }
                    ],
                },
            },
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


def dataset_select(dataset_names: Sequence[str], display_names: Mapping[str, str] | None = None) -> Block:
    """A form's dataset field (at most 100 choices, Slack's limit): each shown by its display
    name (default: the slug), its value how to type it."""
    shown = display_names or {}
    options = [_option(dataset_reference(name), shown.get(name, name)) for name in dataset_names[:100]]
    return {
        "type": "input",
        "block_id": "dataset",
        "label": plain("Dataset"),
        "element": {"type": "static_select", "action_id": "dataset", "options": options},
    }


def start_modal(
    channel_id: str,
    user_id: str,
    dataset_names: Sequence[str],
    base_models: Sequence[BaseModelChoice],
    options: Collection[str] = ("epochs", "batch_size", "learning_rate"),
    display_names: Mapping[str, str] | None = None,
    estimate: str = "",
) -> dict[str, Any]:
    """The start form, with the tuning options the backend takes (`options`, as
    `TuningBackend.options` names them): Vertex AI's or the Gemini API's. `dataset_names`
    are slugs; `display_names` what each is shown as (default: the slug). A change of the
    dataset, epochs, validation set or base model tells tunebot (a choice at once, a typed
    value on Enter), which redraws the `estimate` block (bot/listeners/actions/start_form.py)."""
    model_options = [_option(m.name, m.label) for m in base_models]
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": START_CALLBACK,
        "private_metadata": metadata(channel_id, user_id),
        "title": plain("Start tuning"),
        "submit": plain("Start"),
        "close": plain("Cancel"),
        "blocks": [
            dataset_select(dataset_names, display_names),
            _text_input("name", "Model name", "number generator", optional=True),
            *_tuning_fields(options),
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
            start_estimate_block(estimate),
        ],
    }
    for block in view["blocks"]:
        if block.get("type") == "input" and block.get("block_id") in ESTIMATE_FIELDS:
            block["dispatch_action"] = True
            if block["element"].get("type") == "plain_text_input":
                block["element"]["dispatch_action_config"] = {"trigger_actions_on": ["on_enter_pressed"]}
    return view


def _tuning_fields(options: Collection[str]) -> list[Block]:
    if "learning_rate_multiplier" not in options:  # the Gemini API
        return [
            _text_input("epochs", "Epochs", "5", optional=False, initial="5"),
            _text_input("batch_size", "Batch size", "2", optional=False, initial="2"),
            _text_input("learning_rate", "Learning rate", "0.001", optional=False, initial="0.001"),
        ]
    yes_no = [_option("true", "Yes"), _option("false", "No")]
    return [
        {
            **_text_input("epochs", "Epochs", "left empty, Vertex chooses", optional=True),
            "hint": plain("Left empty, Vertex AI picks a number for the dataset size."),
        },
        {
            **_text_input("learning_rate_multiplier", "Learning-rate multiplier", "1.0", optional=True),
            "hint": plain("1.0 is Vertex's default rate for the model."),
        },
        {
            **_text_input("adapter_size", "Adapter size", "1, 2, 4, 8 or 16", optional=True),
            "hint": plain("Left empty, Vertex's default for the base model."),
        },
        {
            "type": "input",
            "block_id": "export_last_checkpoint_only",
            "optional": True,
            "label": plain("Export last checkpoint only"),
            "element": {
                "type": "static_select",
                "action_id": "export_last_checkpoint_only",
                "options": yes_no,
            },
            "hint": plain("Left empty, the operator's setting."),
        },
        {
            **_text_input("from", "Continue from model", "a model's name, id or alias", optional=True),
            "hint": plain(
                "Tunes further from a tuned model (its base model is used); left empty, a base model."
            ),
        },
        {
            **_text_input("checkpoint", "Checkpoint", "e.g. 2", optional=True),
            "hint": plain("Of the model to continue from; left empty, its default (last) checkpoint."),
        },
    ]


def dataset_title(display_name: str, slug: str) -> str:
    """A dataset named in a message: its display name, and how to type it when that differs."""
    if display_name == slug:
        return f"*{esc(display_name)}*"
    return f"*{esc(display_name)}* (`{esc(dataset_reference(slug))}`)"


def no_datasets_text() -> str:
    return "You have no datasets yet. Upload one with `/tune upload` first."


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


def datasets_blocks(
    summaries: Sequence[DatasetSummary], *, page_number: int = 1, page_size: int = DATASETS_PAGE_SIZE
) -> tuple[str, list[Block]]:
    if not summaries:
        text = no_datasets_text()
        return text, [section(text)]
    pages = page_count(len(summaries), page_size)
    page_number = min(max(1, page_number), pages)
    examples = sum(item.dataset.example_count for item in summaries)
    blocks: list[Block] = [
        section(f"*Your datasets* — {len(summaries)} ({examples:,} examples) · page {page_number} of {pages}")
    ]
    start = (page_number - 1) * page_size
    for item in summaries[start : start + page_size]:
        d = item.dataset
        used = ", ".join(esc(n) for n in item.job_names[:5]) if item.job_names else "no jobs yet"
        if len(item.job_names) > 5:
            used += f" and {len(item.job_names) - 5} more"
        blocks.append(
            section(
                f"{dataset_title(d.display_name, d.name)} — {d.example_count:,} examples "
                f"({d.format.upper()}, `{esc(d.file_name)}`){dataset_skipped_note(d)}\n"
                f"uploaded {when(d.created_at)} · used by: {used}"
            )
        )
    blocks.extend(_page_buttons(ACTION_DATASETS_PAGE, page_number, pages, {}))
    return f"You have {len(summaries)} datasets (page {page_number} of {pages}).", blocks


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
                f"*#{job.id} {esc(job.display_name)}* — {state_badge(job.state)} "
                f"{job.percent:.0f}%{steps}\n`{esc(job.model_name or '')}` · started {when(job.created_at)}"
                f"{error}"
            )
        )
    return f"You have {len(jobs)} tuning jobs.", blocks


def models_page_blocks(
    models: Sequence[ModelSummary],
    owners: dict[str, str],
    *,
    scope: str,
    page_number: int,
    page_size: int,
    total: int,
    yours: int,
    notes: Mapping[str, str] | None = None,
) -> tuple[str, list[Block]]:
    """`notes`: mrkdwn added under a model (its lineage, its aliases), by model name."""
    if not models:
        text = (
            "You have no tuned models yet. Start one with `/tune start <dataset>`."
            if scope == "mine"
            else "There are no tuned models yet. Start one with `/tune start <dataset>`."
        )
        return text, [section(text)]
    pages = page_count(len(models), page_size)
    page_number = min(max(1, page_number), pages)
    title = "Your tuned models" if scope == "mine" else "Tuned models"
    counts = f"{total} in all, {yours} yours" if scope == "all" else f"{yours} of {total}"
    blocks: list[Block] = [section(f"*{title}* — {counts} · page {page_number} of {pages}")]
    start = (page_number - 1) * page_size
    for model in models[start : start + page_size]:
        owner = f"<@{owners[model.name]}>" if model.name in owners else "outside tunebot"
        blocks.append(
            section(f"*{esc(model.display_name)}* — {MODEL_STATE_LABEL[model.state]} · owner: {owner}")
        )
        note = (notes or {}).get(model.name)
        blocks.append(
            context(f"`{esc(model.name)}` · base `{esc(model.base_model)}`" + (f" · {note}" if note else ""))
        )
    blocks.extend(_page_buttons(ACTION_LIST_PAGE, page_number, pages, {"s": scope}))
    return f"{title}, page {page_number} of {pages}", blocks


def _page_buttons(action: str, page_number: int, pages: int, extra: dict[str, str]) -> list[Block]:
    buttons: list[Block] = []
    for label, target in (("Previous", page_number - 1), ("Next", page_number + 1)):
        if 1 <= target <= pages:
            buttons.append(
                {
                    "type": "button",
                    "action_id": f"{action}_{label.lower()}",
                    "text": plain(label),
                    "value": json.dumps({"p": target, **extra}, separators=(",", ":")),
                }
            )
    return [{"type": "actions", "block_id": f"{action}_pages", "elements": buttons}] if buttons else []


def parse_page_value(value: str) -> tuple[int, dict[str, str]]:
    data = json.loads(value)
    return int(data["p"]), {str(k): str(v) for k, v in data.items() if k != "p"}


def delete_prompt_blocks(
    model_name: str, display_name: str, tuning_percent: float | None = None, warning: str | None = None
) -> tuple[str, list[Block]]:
    """`warning`: more the person must know first, already mrkdwn (the aliases pointing to it)."""
    name = esc(display_name) or f"`{esc(model_name)}`"
    text = f"Delete tuned model *{name}*? This cannot be undone."
    will = f"*{name}* will be deleted for everyone."
    if tuning_percent is not None:
        text += f"\n:warning: It is still tuning ({tuning_percent:.0f}%): deleting it cancels the tuning."
        will = f"*{name}* is still tuning; its tuning will be cancelled and the model deleted for everyone."
    if warning:
        text += f"\n{warning}"
        will += f"\n{warning}"
    button = {
        "type": "button",
        "action_id": ACTION_DELETE,
        "style": "danger",
        "text": plain("Delete"),
        "value": model_name,
        "confirm": {
            "title": plain("Cancel and delete?" if tuning_percent is not None else "Delete this model?"),
            "text": {"type": "mrkdwn", "text": will},
            "confirm": plain("Delete"),
            "deny": plain("Cancel"),
            "style": "danger",
        },
    }
    return f"Delete {esc(display_name or model_name)}?", [
        section(text),
        context(f"`{esc(model_name)}`"),
        {"type": "actions", "elements": [button]},
    ]


def model_context(model_name: str, checkpoint: str | None = None) -> Block:
    """The model's full name under a try thread's first message (and the checkpoint tried)."""
    shown = f"`{esc(model_name)}`"
    return context(f"{shown} · checkpoint {esc(checkpoint)}" if checkpoint else shown)


def checkpoint_name(display_name: str, checkpoint: str | None) -> str:
    """A model, or one of its checkpoints, as plain text: `support bot (checkpoint 1)`."""
    return f"{display_name} (checkpoint {checkpoint})" if checkpoint else display_name


SYSTEM_SHOWN = 150  # characters of a system instruction quoted in a thread's first message


def system_line(system: SystemChoice | None, *, both: bool = False) -> str:
    """Which system instruction a try or compare thread sends with every turn (`both`: to
    both models of a compare thread), for its first message ("" when none): quoted on one
    line, escaped and shortened."""
    if system is None or not system.text:
        return ""
    quoted = escape_truncated(" ".join(system.text.split()), SYSTEM_SHOWN)
    if system.source == "option":
        where = "set with `system=`"
    else:
        where = f'from dataset *{esc(system.dataset_name or "its dataset")}*; `system="…"` replaces it'
    return f"\n_System instruction{' for both models' if both else ''} ({where}):_ “{quoted}”"


def try_prompt_text(
    user_id: str,
    display_name: str,
    prompt: str,
    checkpoint: str | None = None,
    system: SystemChoice | None = None,
) -> str:
    which = f" (checkpoint {esc(checkpoint)})" if checkpoint else ""
    return f"<@{user_id}> asked *{esc(display_name)}*{which}:\n{prompt_echo(prompt)}{system_line(system)}"


def try_started_text(user_id: str, display_name: str, system: SystemChoice | None = None) -> str:
    return (
        f"<@{user_id}> is trying *{esc(display_name)}*. Reply in this thread and the model will answer "
        f"each message.{system_line(system)}"
    )


def thinking_text(display_name: str) -> str:
    return f"_{esc(display_name)} is thinking…_"
