"""Block Kit for the per-job progress message and the end-of-job notice.

Everything here is pure: a `JobView` in, `(fallback_text, blocks)` out. All text that
came from users or from the backend goes through `escape_mrkdwn`; only our own
markup (bold, emoji, the owner mention) is left live.

The change signature that decides when the message is edited
(`progress_signature`) is in bot/presentation/signature.py.
"""

from __future__ import annotations

import re
from typing import Any

from bot.domain.text import escape_truncated
from bot.domain.types import SentHyperparameters
from bot.polling.view import JobView
from bot.presentation import details
from bot.presentation.cancel import cancelled_line
from bot.presentation.lineage import lineage_text
from bot.presentation.text import (
    elapsed_seconds,
    eta_seconds,
    format_duration,
    format_loss,
    format_percent,
    progress_bar,
)

Block = dict[str, Any]

TERMINAL_STATES = frozenset({"succeeded", "failed", "lost", "cancelled"})
STATE_EMOJI = {
    "queued": ":hourglass_flowing_sand:",
    "running": ":gear:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "lost": ":ghost:",
    "cancelled": ":no_entry_sign:",
}
STATE_LABEL = {
    "queued": "queued",
    "running": "tuning",
    "succeeded": "ready",
    "failed": "failed",
    "lost": "lost",
    "cancelled": "cancelled",
}
TRY_MODEL_ACTION_ID = "tune_try_model"
LOST_TEXT = (
    "The tuning operation no longer exists on Google's side (it was deleted or expired), "
    "so tunebot can't follow this job any more."
)

NAME_LIMIT = 150
DETAIL_LIMIT = 200
ERROR_LIMIT = 2500
ERROR_LINE_LIMIT = 25
BUTTON_VALUE_LIMIT = 2000
_SEPARATOR = " · "
_CODE_SAFE = re.compile(r"[\w./:@-]+")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]+")


def progress_blocks(view: JobView) -> tuple[str, list[Block]]:
    """Fallback text and blocks for the job's single, updated-in-place message."""
    return _progress_message(view)


def completion_notice(view: JobView) -> tuple[str, list[Block]]:
    """Fallback text and blocks for the notice posted once a job has finished."""
    if view.state == "succeeded":
        return _success_notice(view)
    if view.state == "failed":
        return _failure_notice(view)
    if view.state == "lost":
        return _lost_notice(view)
    if view.state == "cancelled":
        return _cancelled_notice(view)
    raise ValueError(f"completion_notice needs a finished job, got state {view.state!r}")


# --- progress message -------------------------------------------------------------


def _progress_message(view: JobView) -> tuple[str, list[Block]]:
    status_lines = [
        details.detail_line(view),
        _bar_line(view),
        _stats_line(view),
        _timing_line(view),
        details.data_line(view),
    ]
    blocks = [
        _section(_title_line(view)),
        _section("\n".join(line for line in status_lines if line)),
    ]
    outcome = _outcome_text(view)
    if outcome:
        blocks.append(_section(outcome))
    blocks.append(_context([_started_by(view), *_job_details(view)]))
    return _progress_fallback(view), blocks


def _title_line(view: JobView) -> str:
    label = _state_label(view.state)
    if view.state == "cancelled" and view.cancelled_by:
        label += f" by {_mention(view.cancelled_by)}"
    short = details.short_detail(view)
    if short:
        label += f" ({short})"
    return f"{_state_emoji(view.state)} *{_name(view)}*{_SEPARATOR}{label}"


def _bar_line(view: JobView) -> str:
    percent = shown_percent(view)
    return f"`{progress_bar(percent)}` *{format_percent(percent)}*"


def _stats_line(view: JobView) -> str:
    loss = format_loss(view.mean_loss)
    loss_label = "final loss" if view.state == "succeeded" else "loss"
    eval_loss = format_loss(view.eval_loss)
    parts = [
        steps_text(view),
        epoch_text(view.epoch, view.epoch_count),
        f"{loss_label} {loss}" if loss else None,
        f"eval loss {eval_loss}" if eval_loss else None,
    ]
    return _SEPARATOR.join(part for part in parts if part)


def _timing_line(view: JobView) -> str | None:
    elapsed = format_duration(elapsed_seconds(view.started_at, view.now))
    if view.state == "succeeded":
        return f":stopwatch: took {elapsed}"
    if view.state in ("failed", "cancelled"):
        return f":stopwatch: stopped after {elapsed}"
    if view.state == "lost":
        return None
    if view.state == "queued":
        if elapsed_seconds(view.started_at, view.now) < 1:
            return ":stopwatch: queued just now"
        return f":stopwatch: waiting for {elapsed}"
    # The ETA only shows once there is progress to extrapolate from (see `eta_seconds`).
    # Vertex reports when tuning itself began (after any wait for quota): extrapolate from then.
    eta = eta_seconds(view.percent, view.tuning_started_at or view.started_at, view.now)
    if eta is None:
        return f":stopwatch: {elapsed} elapsed"
    if eta < 1:
        return f":stopwatch: {elapsed} elapsed{_SEPARATOR}almost done"
    return f":stopwatch: {elapsed} elapsed{_SEPARATOR}about {format_duration(eta)} left"


def _outcome_text(view: JobView) -> str | None:
    if view.state == "failed":
        return f"*Tuning failed.* Google reported:\n{_quoted_error(view.error_message)}"
    if view.state == "lost":
        return f"*Job lost.* {LOST_TEXT}"
    if view.state == "cancelled" and view.cancelled_by and view.model_deleted:
        # The title line says "cancelled by @who" already: this says why, not that again.
        return f"{_mention(view.cancelled_by)} deleted the model while it was tuning."
    if view.state == "cancelled" and view.cancelled_by:
        line = cancelled_line(view.model_name, view.checkpoints, view.cost_so_far, view.currency)
        return line[:1].upper() + line[1:]
    return None


def _progress_fallback(view: JobView) -> str:
    parts = [f"{format_percent(shown_percent(view))}", steps_text(view)]
    progress = _SEPARATOR.join(part for part in parts if part)
    return f"{_name(view)}: {_state_label(view.state)} ({progress})"


# --- completion notice ------------------------------------------------------------


def _success_notice(view: JobView) -> tuple[str, list[Block]]:
    took = format_duration(elapsed_seconds(view.started_at, view.now))
    loss = format_loss(view.mean_loss)
    headline = (
        f":tada: {_mention(view.owner_user_id)}, your tuned model *{_name(view)}* is ready to use: "
        "press *Try it* or ask it with `/tune try`."
    )
    eval_loss = format_loss(view.eval_loss)
    facts = [
        f"final loss *{loss}*" if loss else None,
        f"eval loss *{eval_loss}*" if eval_loss else None,
        f"took *{took}*",
        steps_text(view),
    ]
    blocks = [
        _section(headline),
        _section(_SEPARATOR.join(fact for fact in facts if fact)),
    ]
    blocks.extend(
        _section(extra)
        for extra in (details.detail_line(view), details.data_line(view), details.checkpoint_lines(view))
        if extra
    )
    blocks.append(_context(_job_details(view)))
    if view.model_name and len(view.model_name) <= BUTTON_VALUE_LIMIT:  # Slack rejects empty values
        blocks.append(_try_button(view.model_name))
    fallback = f"{_mention(view.owner_user_id)} your tuned model {_name(view)} is ready (took {took})"
    return fallback, blocks


def _failure_notice(view: JobView) -> tuple[str, list[Block]]:
    headline = f":x: {_mention(view.owner_user_id)}, tuning *{_name(view)}* failed. Google reported:"
    blocks = [
        _section(headline),
        _section(_quoted_error(view.error_message)),
    ]
    blocks.extend(_section(extra) for extra in (details.data_line(view),) if extra)
    blocks.append(_context(_job_details(view)))
    fallback = f"{_mention(view.owner_user_id)} tuning {_name(view)} failed"
    return fallback, blocks


def _lost_notice(view: JobView) -> tuple[str, list[Block]]:
    headline = f":ghost: {_mention(view.owner_user_id)}, the tuning job *{_name(view)}* was lost."
    blocks = [_section(f"{headline}\n{LOST_TEXT}"), _context(_job_details(view))]
    fallback = f"{_mention(view.owner_user_id)} the tuning job {_name(view)} was lost"
    return fallback, blocks


def _cancelled_notice(view: JobView) -> tuple[str, list[Block]]:
    headline = f":no_entry_sign: {_mention(view.owner_user_id)}, tuning *{_name(view)}* was cancelled."
    blocks = [_section(headline), _context(_job_details(view))]
    fallback = f"{_mention(view.owner_user_id)} tuning {_name(view)} was cancelled"
    return fallback, blocks


def _try_button(model_name: str) -> Block:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Try it", "emoji": True},
        "style": "primary",
        "action_id": TRY_MODEL_ACTION_ID,
        "value": model_name,
    }
    return {"type": "actions", "elements": [button]}


# --- shared pieces ----------------------------------------------------------------


def shown_percent(view: JobView) -> float:
    return 100.0 if view.state == "succeeded" else view.percent


def steps_text(view: JobView) -> str | None:
    completed = view.completed_steps
    if view.state == "succeeded" and view.total_steps is not None:
        completed = view.total_steps
    if completed is None:
        return None
    if view.total_steps is None:
        return f"step {completed}"
    return f"step {completed} / {view.total_steps}"


def epoch_text(epoch: int | None, epoch_count: int | None) -> str | None:
    """`epoch` is 0-based as the API reports it; people count from 1."""
    if epoch is None:
        return None
    shown = epoch + 1
    if epoch_count is None:
        return f"epoch {shown}"
    return f"epoch {min(shown, epoch_count)} of {epoch_count}"


def _job_details(view: JobView) -> list[str]:
    details = [_code_or_plain(view.model_name), f"base {_code_or_plain(view.base_model)}"]
    lineage = lineage_text(view.parent_name, view.parent_checkpoint)
    if lineage:
        details.append(lineage)
    if view.dataset_name:
        details.append(f"dataset {escape_truncated(view.dataset_name, DETAIL_LIMIT)}")
    hyper = (
        vertex_hyperparameters(view.hyperparameters, view.epoch_count)
        if view.hyperparameters is not None
        else [
            _plural(view.epoch_count, "epoch") if view.epoch_count is not None else None,
            f"batch size {view.batch_size}" if view.batch_size is not None else None,
            f"learning rate {view.learning_rate:g}" if view.learning_rate is not None else None,
            f"learning-rate multiplier {view.legacy_multiplier:g}"
            if view.legacy_multiplier is not None
            else None,
        ]
    )
    shown_hyper = [part for part in hyper if part]
    if shown_hyper:
        details.append(", ".join(shown_hyper))
    return [detail for detail in details if detail]


def vertex_hyperparameters(sent: SentHyperparameters, epoch_count: int | None) -> list[str | None]:
    """What a Vertex AI job received, as the job says, by Vertex's names."""
    epochs = sent.epoch_count if sent.epoch_count is not None else epoch_count
    multiplier = sent.learning_rate_multiplier
    return [
        _plural(epochs, "epoch") if epochs is not None else "epochs: chosen by Vertex",
        f"learning-rate multiplier {multiplier:g}"
        if multiplier is not None
        else "learning-rate multiplier: Vertex's default",
        f"adapter size {sent.adapter_size}"
        if sent.adapter_size is not None
        else "adapter size: Vertex's default",
        f"export last checkpoint only: {'yes' if sent.export_last_checkpoint_only else 'no'}",
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _started_by(view: JobView) -> str:
    return f"started by {_mention(view.owner_user_id)}"


def _quoted_error(error_message: str | None) -> str:
    """The backend's error as a block quote that fits a section (3000 chars) with room to spare."""
    lines = [line.rstrip() for line in (error_message or "").strip().splitlines()]
    if len(lines) > ERROR_LINE_LIMIT:
        lines = [*lines[: ERROR_LINE_LIMIT - 1], "…"]
    escaped = escape_truncated("\n".join(lines), ERROR_LIMIT) or "(no error details were given)"
    return "\n".join(f"> {line}" for line in escaped.split("\n"))


def _name(view: JobView) -> str:
    """The display name on one line (newlines would break the title), or "job N"."""
    one_line = " ".join(view.display_name.split())
    return escape_truncated(one_line, NAME_LIMIT) or f"job {view.job_id}"


def _state_emoji(state: str) -> str:
    return STATE_EMOJI.get(state, ":grey_question:")


def _state_label(state: str) -> str:
    return STATE_LABEL.get(state) or escape_truncated(state, DETAIL_LIMIT)


def _mention(user_id: str) -> str:
    """A live mention for a real Slack user id; anything else is shown inert."""
    return f"<@{user_id}>" if _SLACK_ID.fullmatch(user_id) else escape_truncated(user_id, DETAIL_LIMIT)


def _code_or_plain(text: str) -> str:
    """Resource names read best as code; odd characters fall back to escaped text."""
    if _CODE_SAFE.fullmatch(text) and len(text) <= DETAIL_LIMIT:
        return f"`{text}`"
    return escape_truncated(text, DETAIL_LIMIT)


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _context(texts: list[str]) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text} for text in texts[:10]]}
