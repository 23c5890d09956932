"""Slack mrkdwn for what is in a dataset (bot.datasets.insight) and what a start will cost.

Pure functions: no Slack, no database.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.datasets.insight import BYTES_PER_TOKEN, NEAR_LIMIT_FRACTION, DatasetInsight, RowList, Spread
from bot.domain.pricing import price_for
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.presentation.text import format_money

ESTIMATE_NOTE = f"token counts are estimates: about {BYTES_PER_TOKEN} bytes of UTF-8 text per token"


def _spread(chars: Spread, tokens: Spread) -> str:
    return (
        f"min {chars.min:,} · median {chars.median:,} · p95 {chars.p95:,} · max {chars.max:,} characters "
        f"(≈ {tokens.min:,} / {tokens.median:,} / {tokens.p95:,} / {tokens.max:,} tokens)"
    )


def _rows(rows: RowList) -> str:
    if rows.count == 0:
        return "none"
    listed = ", ".join(esc(r) for r in rows.rows)
    more = "…" if rows.count > len(rows.rows) else ""
    return f"{rows.count:,} ({listed}{more})"


def insight_lines(insight: DatasetInsight) -> list[str]:
    """The bullets of the upload reply and of `/tune datasets <name>`.

    For conversations "inputs" are the system instruction and every user turn, "outputs" every
    model turn; a preview shows the last user turn and the model turn answering it."""
    pct = round(NEAR_LIMIT_FRACTION * 100)
    conversational = insight.conversational
    inputs = "Inputs (system instruction and user turns)" if conversational else "Inputs"
    outputs = "Outputs (model turns)" if conversational else "Outputs"
    lines = [
        f"• *{insight.examples:,} examples*, ≈ {insight.total_tokens:,} tokens in all ({ESTIMATE_NOTE})",
        f"• {inputs}: {_spread(insight.input_chars, insight.input_tokens)}",
        f"• {outputs}: {_spread(insight.output_chars, insight.output_tokens)}",
    ]
    if insight.turns.max > 1:
        turns = insight.turns
        lines.append(
            f"• Turns per example (user turns, each answered): min {turns.min:,} · median {turns.median:,} · "
            f"p95 {turns.p95:,} · max {turns.max:,}"
        )
    if insight.with_system:
        lines.append(f"• With a system instruction: {insight.with_system:,} of {insight.examples:,} examples")
    same_input = "same conversation up to the last answer" if conversational else "same input"
    lines += [
        f"• Exact duplicates: {_rows(insight.exact_duplicates)}",
        f"• Conflicting duplicates ({same_input}, different output): {_rows(insight.conflicting_duplicates)}",
    ]
    # Per-field character limits exist on the Gemini API only (Vertex AI counts tokens per example).
    if insight.max_input_chars:
        lines.append(
            f"• Inputs over {pct}% of the {insight.max_input_chars:,}-character limit: "
            f"{_rows(insight.near_input_limit)}"
        )
    if insight.max_output_chars:
        lines.append(
            f"• Outputs over {pct}% of the {insight.max_output_chars:,}-character limit: "
            f"{_rows(insight.near_output_limit)}"
        )
    lines.append(f"• Fields empty after trimming: {_rows(insight.empty_fields)}")
    lines.extend(f":warning: {esc(w)}" for w in insight.guidance())
    if insight.preview:
        lines.append("*Preview*" + (" (the last user turn and the model's answer)" if conversational else ""))
        turns_of = insight.preview_turns
        for index, (text_input, output) in enumerate(insight.preview):
            count = turns_of[index] if index < len(turns_of) else 1
            more = f"  _({count} turns)_" if count > 1 else ""
            lines.append(f"> {escape_truncated(text_input, 200)}  →  {escape_truncated(output, 200)}{more}")
    return lines


def training_estimate(
    insight: DatasetInsight,
    *,
    epochs: int | None,
    base_model: str,
    prices: Mapping[str, float],
    currency: str = "USD",
    share: float = 1.0,
) -> str:
    """`≈ N training tokens (T tokens × E epochs, an estimate)` and, when priced, the cost.
    `share` is the part of the dataset trained on (less than 1 with a validation split).
    Without `epochs` (Vertex AI picks the number) the figures are per epoch."""
    dataset_tokens = round(insight.total_tokens * share)
    tokens = dataset_tokens * max(epochs or 1, 0)
    part = f"{share:.0%} of the dataset, " if share < 1 else ""
    if epochs is None:
        text = (
            f"≈ {tokens:,} training tokens per epoch ({part}an estimate; Vertex chooses the number "
            "of epochs for the dataset size)"
        )
    else:
        text = (
            f"≈ {tokens:,} training tokens ({part}{dataset_tokens:,} tokens × {epochs} "
            f"{'epoch' if epochs == 1 else 'epochs'}; an estimate)"
        )
    price = price_for(prices, base_model)
    if price is not None:
        cost = tokens / 1_000_000 * price
        text += (
            f", ≈ {format_money(cost, currency)}{' per epoch' if epochs is None else ''} at the configured "
            f"{format_money(price, currency)} per 1M training tokens for `{esc(base_model)}`"
        )
    return text
