"""The lines a job message and notice add for what Vertex AI reports: the sub-state in
words, the dataset as the service counted it with the training tokens and an optional
cost estimate, and the per-epoch checkpoints. Pure: a `JobView` in, mrkdwn out."""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.polling.view import JobView
from bot.presentation.text import format_loss, format_money

DETAIL_WORDS = {
    "waiting_for_quota": (
        ":hourglass: *Waiting for quota.* Vertex AI runs only a few tuning jobs at once per "
        "project (the “global concurrent tuning jobs” quota, 1 by default, shared by every region "
        "and model); this job starts by itself when a running one ends. A higher quota can be "
        "requested in the Cloud console (IAM & Admin → Quotas)."
    ),
    "processing_dataset": ":mag: *Preparing the dataset* (Vertex AI is reading and counting the examples).",
    "waiting_for_capacity": (
        ":hourglass: *Waiting for capacity*: Google has no free machines for tuning right now; "
        "the job starts by itself when some free up."
    ),
    "post_processing": ":package: *Post-processing*: saving the tuned model and deploying its endpoint.",
    "paused": ":double_vertical_bar: *Paused* by Vertex AI; it resumes where it stopped.",
    "updating": ":arrows_counterclockwise: *Updating*: Vertex AI is changing the job; it goes on afterwards.",
    "cancelling": ":no_entry_sign: *Cancelling*…",
    "partially_succeeded": ":warning: Vertex AI reports that the job only *partially succeeded*.",
}
SHORT_WORDS = {
    "waiting_for_quota": "waiting for quota",
    "processing_dataset": "preparing the dataset",
    "waiting_for_capacity": "waiting for capacity",
    "post_processing": "post-processing",
    "paused": "paused",
    "updating": "updating",
    "cancelling": "cancelling",
    "expired": "expired",
    "partially_succeeded": "partially succeeded",
}
CHECKPOINTS_SHOWN = 20


def detail_line(view: JobView) -> str | None:
    """The sub-state in words while it matters (not while plainly tuning)."""
    if view.detail_state is None:
        return None
    if view.state not in ("queued", "running") and view.detail_state != "partially_succeeded":
        return None
    return DETAIL_WORDS.get(view.detail_state)


def short_detail(view: JobView) -> str | None:
    return SHORT_WORDS.get(view.detail_state or "")


def training_tokens(view: JobView) -> int | None:
    """Training tokens = billable dataset tokens × epochs (how tuning is billed)."""
    stats = view.data_stats
    if stats is None or stats.billable_tokens is None or not view.epoch_count:
        return None
    return stats.billable_tokens * view.epoch_count


def cost_estimate(view: JobView) -> float | None:
    tokens = training_tokens(view)
    if tokens is None or view.price_per_million_tokens is None:
        return None
    return tokens / 1_000_000 * view.price_per_million_tokens


def data_line(view: JobView) -> str | None:
    """What the service counted in the training data, the training tokens and the cost."""
    stats = view.data_stats
    if stats is None:
        return None
    parts: list[str] = []
    if stats.examples is not None:
        parts.append(f"{stats.examples:,} examples")
    if stats.billable_tokens is not None:
        parts.append(f"{stats.billable_tokens:,} billable tokens")
    tokens = training_tokens(view)
    if tokens is not None:
        parts.append(f"≈ {tokens:,} training tokens (× {view.epoch_count} epochs)")
    cost = cost_estimate(view)
    if cost is not None and view.price_per_million_tokens is not None:
        price = format_money(view.price_per_million_tokens, view.currency)
        parts.append(
            f"estimated cost *{format_money(cost, view.currency)}* (at {price} per 1M training tokens)"
        )
    if stats.truncated_examples:
        parts.append(f"{stats.truncated_examples:,} truncated")
    line = ":bar_chart: Dataset as Vertex AI counted it: " + " · ".join(parts) if parts else None
    if stats.dropped_reasons:
        reasons = "; ".join(escape_truncated(r, 200) for r in stats.dropped_reasons[:5])
        more = f" (and {len(stats.dropped_reasons) - 5} more)" if len(stats.dropped_reasons) > 5 else ""
        dropped = f":warning: Examples dropped: {reasons}{more}"
        line = f"{line}\n{dropped}" if line else dropped
    return line


def checkpoint_lines(view: JobView) -> str | None:
    """The per-epoch checkpoints (epoch, step, eval loss at that step if known)."""
    if not view.checkpoints:
        return None
    lines = []
    for checkpoint in view.checkpoints[:CHECKPOINTS_SHOWN]:
        facts = [
            f"epoch {checkpoint.epoch}" if checkpoint.epoch is not None else None,
            f"step {checkpoint.step}" if checkpoint.step is not None else None,
        ]
        loss = format_loss(checkpoint.eval_loss)
        if loss:
            facts.append(f"eval loss {loss}")
        shown = ", ".join(f for f in facts if f)
        lines.append(f"• checkpoint `{escape_truncated(checkpoint.checkpoint_id, 40)}`: {shown}")
    more = len(view.checkpoints) - CHECKPOINTS_SHOWN
    if more > 0:
        lines.append(f"… and {more} more")
    model = esc(view.model_name.rsplit("/", 1)[-1]) or "<model>"
    head = f"*Checkpoints* (try one with `/tune try {model} checkpoint=N <prompt>`):"
    return "\n".join([head, *lines])


def signature_facts(view: JobView) -> dict[str, object]:
    """What these lines show, for the progress message's change signature."""
    return {
        "detail": view.detail_state,
        "eval_loss": format_loss(view.eval_loss),
        "data": data_line(view),
        "checkpoints": len(view.checkpoints),
    }
