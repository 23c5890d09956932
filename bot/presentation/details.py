"""The lines a job message and notice add for what Vertex AI reports: the sub-state in
words, the dataset as the service counted it with the training tokens and an optional
cost estimate, and the per-epoch checkpoints. Pure: a `JobView` in, mrkdwn out."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.pricing import OVERRIDE_SOURCE, CostEstimate, Price, counted_cost
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.polling.view import JobView
from bot.presentation.costs import counted_cost_text, stored_estimate_text
from bot.presentation.text import format_loss

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


def _view_price(view: JobView) -> Price | None:
    """The job's prices: as the view carries them, or its bare training price."""
    if view.price is not None:
        return view.price
    if view.price_per_million_tokens is None:
        return None
    per_million = Decimal(str(view.price_per_million_tokens))
    return Price(view.base_model, per_million, None, None, view.currency, OVERRIDE_SOURCE)


def _counted(view: JobView) -> CostEstimate | None:
    """The cost counted from Vertex's billable tokens once it reports them (per epoch until
    the epochs are known)."""
    stats = view.data_stats
    if stats is None or stats.billable_tokens is None:
        return None
    price = _view_price(view)
    currency = price.currency if price else view.currency
    return counted_cost(view.base_model, stats.billable_tokens, view.epoch_count or 0, price, currency)


def data_line(view: JobView) -> str | None:
    """What the service counted in the training data, the training tokens and the cost:
    counted once Vertex reports its billable tokens, the start's estimate before."""
    stats = view.data_stats
    cost = _counted(view)
    estimate = (
        None
        if cost is not None and cost.epochs is not None
        else stored_estimate_text(view.estimated_tokens, view.estimated_cost, view.cost_currency)
    )
    if stats is None:
        return estimate
    parts: list[str] = []
    if stats.examples is not None:
        parts.append(f"{stats.examples:,} examples")
    if stats.billable_tokens is not None:
        parts.append(f"{stats.billable_tokens:,} billable tokens")
    tokens = training_tokens(view)
    if tokens is not None:
        parts.append(f"≈ {tokens:,} training tokens (× {view.epoch_count} epochs)")
    cost_text = counted_cost_text(cost) if cost is not None else None
    if cost_text:
        parts.append(cost_text)
    if stats.truncated_examples:
        parts.append(f"{stats.truncated_examples:,} truncated")
    line = ":bar_chart: Dataset as Vertex AI counted it: " + " · ".join(parts) if parts else None
    if estimate:
        line = f"{line}\n{estimate}" if line else estimate
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
