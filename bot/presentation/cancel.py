"""`/tune cancel`: the confirmation, the answers to its button, and the line a cancelled job's
message shows (who cancelled it, the checkpoints it keeps, what it cost so far)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.domain.types import Checkpoint
from bot.presentation.text import format_money
from bot.services.cancel import CancelOutcome
from bot.services.models import short_id
from bot.storage.models import TuningJob

Block = dict[str, Any]

CANCEL_USAGE = "`/tune cancel <model>`"
ACTION_CANCEL_JOB = "tune_cancel_job"
NAME_LIMIT = 150


def _name(job: TuningJob) -> str:
    one_line = " ".join(job.display_name.split())
    return f"*{escape_truncated(one_line, NAME_LIMIT)}*" if one_line else f"job {job.id}"


def _model_id(job: TuningJob) -> str:
    return esc(short_id(job.model_name or "")) or "<model>"


def kept_checkpoints_text(checkpoints: Sequence[Checkpoint]) -> str | None:
    """`checkpoints 1–2`, `checkpoint 3`, `checkpoints 1, 3`; None when there are none."""
    ids = [c.checkpoint_id for c in checkpoints if c.endpoint]
    if not ids:
        return None
    if len(ids) == 1:
        return f"checkpoint {escape_truncated(ids[0], 40)}"
    numbers = [int(i) for i in ids if i.isascii() and i.isdigit()]
    if len(numbers) == len(ids) and numbers == list(range(numbers[0], numbers[0] + len(numbers))):
        return f"checkpoints {numbers[0]}–{numbers[-1]}"
    return "checkpoints " + ", ".join(escape_truncated(i, 40) for i in ids)


def cancelled_line(
    model_name: str, checkpoints: Sequence[Checkpoint], cost: float | None, currency: str
) -> str:
    """What a job cancelled with `/tune cancel` keeps, and what it cost: said once, in its message."""
    kept = kept_checkpoints_text(checkpoints)
    model = esc(short_id(model_name)) or "<model>"
    if kept:
        last = [c.checkpoint_id for c in checkpoints if c.endpoint][-1]
        usable = f"{kept} stay usable (`/tune try {model} checkpoint={escape_truncated(last, 40)} <prompt>`)"
    else:
        usable = "no checkpoint was saved before the cancel"
    cost_text = f"cost so far {format_money(cost, currency)}" if cost is not None else "cost so far not known"
    return f"{usable} · {cost_text}"


def cancel_prompt_blocks(job: TuningJob) -> tuple[str, list[Block]]:
    """Asked privately before a running job is cancelled (the button carries the job's id)."""
    name = _name(job)
    percent = f" ({job.percent:.0f}%)" if job.percent else ""
    text = (
        f"Cancel the tuning of {name}{percent}? It stops at once and stops billing; the checkpoints "
        "it has already saved stay usable (`/tune try` with `checkpoint=N`). The model is not deleted."
    )
    button = {
        "type": "button",
        "action_id": ACTION_CANCEL_JOB,
        "style": "danger",
        "text": {"type": "plain_text", "text": "Cancel the job", "emoji": True},
        "value": str(job.id),
        "confirm": {
            "title": {"type": "plain_text", "text": "Stop this tuning job?"},
            "text": {"type": "mrkdwn", "text": f"{name} stops tuning for good; it cannot be resumed."},
            "confirm": {"type": "plain_text", "text": "Cancel the job"},
            "deny": {"type": "plain_text", "text": "Keep tuning"},
            "style": "danger",
        },
    }
    blocks: list[Block] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"`{_model_id(job)}`"}]},
        {"type": "actions", "elements": [button]},
    ]
    return f"Cancel the tuning of {escape_truncated(job.display_name, NAME_LIMIT)}?", blocks


def cancel_outcome_text(outcome: CancelOutcome) -> str:
    """The answer to `/tune cancel` (when it does not ask) or to its button."""
    job = outcome.job
    name = _name(job) if job is not None else "That job"
    match outcome.kind:
        case "cancelled":
            model_name = (job.model_name or "") if job is not None else ""
            line = cancelled_line(model_name, outcome.kept, outcome.cost, outcome.currency)
            return f":no_entry_sign: Cancelled the tuning of {name}: {line}."
        case "already":
            return f"{name} was already cancelled by <@{esc(outcome.by or '')}>; nothing more to do."
        case "ended":
            state = job.state if job is not None else "ended"
            return (
                f"{name} is not tuning any more (it {_ended_words(state)}), so there is nothing to "
                "cancel. `/tune status` shows it; `/tune delete` deletes a model."
            )
        case "starting":
            return f"{name} is still being created; try `/tune cancel` again in a moment."
        case "refused":
            owner = f"<@{esc(job.owner_user_id)}>" if job is not None else "its owner"
            return (
                f":no_entry: Only {owner} (who started {name}), a tunebot admin, or the approver of "
                "this job may cancel it."
            )
        case "unsupported":
            return (
                f":x: This tunebot tunes through the Gemini API, which cannot stop a job and keep its "
                f"model. To stop {name}, delete it with `/tune delete` (its tuning is lost)."
            )
        case "failed":
            return f":x: The tuning service did not cancel {name}: {esc(outcome.reason or '')}"
    return "There is no tuning job of tunebot's by that name or id. `/tune status` shows your jobs."


def _ended_words(state: str) -> str:
    words = {
        "succeeded": "finished: the model is ready",
        "failed": "failed",
        "lost": "was lost",
        "cancelled": "was cancelled",
    }
    return words.get(state, f"is {esc(state)}")
