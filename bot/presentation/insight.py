"""Slack mrkdwn for what is in a dataset (bot.datasets.insight); what a start costs is bot.presentation.costs.

Pure functions: no Slack, no database.
"""

from __future__ import annotations

from bot.datasets.insight import BYTES_PER_TOKEN, NEAR_LIMIT_FRACTION, DatasetInsight, RowList, Spread
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated

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
