"""Replies about tuned models: their labels, deleting one, answers in a try thread."""

from __future__ import annotations

from bot.domain.errors import BackendError
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.services.errors import ModelRef
from bot.services.models import Deleted, short_id

ANSWER_LIMIT = 3900


def model_label(model: ModelRef) -> str:
    """`*display name*` for a model tunebot made, else its id in code."""
    name = model.display_name
    return f"*{esc(name)}*" if name else f"`{esc(short_id(model.model_name))}`"


def model_named(model: ModelRef) -> str:
    """`*display name* (`id`)` for a model tunebot made, else its id in code: where both the
    name people gave it and the id they may type matter (`/tune compare`, `/tune eval`)."""
    shown = f"`{esc(short_id(model.model_name))}`"
    return f"*{esc(model.display_name)}* ({shown})" if model.display_name else shown


def delete_refusal(owner_user_id: str | None, label: str) -> str:
    if owner_user_id is None:
        return f":no_entry: {label} was not created through tunebot, so only a tunebot admin may delete it."
    return f":no_entry: Only <@{owner_user_id}> (who owns {label}) or a tunebot admin may delete it."


def deleted_text(deleted: Deleted) -> str:
    label = model_label(deleted.model)
    if deleted.kind == "already":
        return f"{label} was already deleted by <@{deleted.deleted_by}>."
    if deleted.kind == "gone":
        return f"{label} no longer exists; nothing to delete."
    if deleted.kind == "cancelled":
        return f":wastebasket: Cancelled the tuning of {label} and deleted it."
    return f":wastebasket: Deleted {label} (`{esc(short_id(deleted.model.model_name))}`)."


def answer_message(answer: str) -> str:
    """A model's answer in a try thread, shortened to fit one message."""
    if not answer.strip():
        return "_(the model returned an empty answer)_"
    shown = escape_truncated(answer, ANSWER_LIMIT)
    return shown if len(shown) >= len(esc(answer)) else shown + "\n_(answer shortened)_"


def left_out_note(left_out: int) -> str:
    """Said under an answer when the thread's oldest turns did not fit the context budget."""
    return f"\n_(earlier turns left out: {left_out})_" if left_out else ""


def failure_message(name: str, error: BackendError) -> str:
    """Why the model called `name` gave no answer."""
    if error.not_found:
        return f":x: *{esc(name)}* does not exist (any more). `/tune list` shows the models."
    return f":x: *{esc(name)}* could not answer: {esc(str(error))}"


STALE_PAGE_BUTTON_TEXT = "That button is out of date; run `/tune list` again."


def list_failed_text(error: str) -> str:
    """The tuning service would not list the models (`error` as it said it)."""
    return f":x: Could not list tuned models: {esc(error)}"
