"""Block Kit for base-vs-tuned evaluations and `/tune compare`. Pure functions."""

from __future__ import annotations

import re
from typing import Any

from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.evaluation.report import EvalReport, EvalRow
from bot.presentation.blocks import system_line
from bot.presentation.models import model_label, model_named
from bot.presentation.text import prompt_echo
from bot.services.conversation import SystemChoice
from bot.services.errors import ModelRef
from bot.services.models import short_id

Block = dict[str, Any]

FIELD_LIMIT = 1900  # Block Kit: a section field holds at most 2,000 characters
SHOWN_EXAMPLES = 3


def _section(text: str, fields: list[str] | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    if fields:
        block["fields"] = [{"type": "mrkdwn", "text": f[:2000]} for f in fields[:10]]
    return block


def _percent(rate: float) -> str:
    return f"{rate * 100:.0f}%"


def _signed_points(delta: float) -> str:
    return f"{delta * 100:+.0f} points"


def evaluation_file_name(key: str) -> str:
    """`tunebot-eval-<key>.csv`, the key made of letters, digits, `-` and `_` only."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "evaluation"
    return f"tunebot-eval-{safe[:80]}.csv"


def summary_lines(report: EvalReport) -> list[str]:
    exact = report.tuned_exact_rate - report.base_exact_rate
    similar = report.tuned_mean_similarity - report.base_mean_similarity
    return [
        f"*Exact match:* base {_percent(report.base_exact_rate)} → tuned {_percent(report.tuned_exact_rate)} "
        f"({_signed_points(exact)})",
        f"*Similarity* (normalised, 0–1): base {report.base_mean_similarity:.2f} → tuned "
        f"{report.tuned_mean_similarity:.2f} ({similar:+.2f})",
    ]


OUTCOME_WORDS = {"win": ":trophy: tuned wins", "tie": ":handshake: tie", "loss": ":x: base wins"}
WIN_RATE_RULE = (
    "win rate = (wins + ½ ties) / judged rows; each row judged in both orders, a win or a loss "
    "only when both orders agree"
)


def win_rate_text(rate: float | None) -> str:
    return "–" if rate is None else _percent(rate)


def judge_lines(report: EvalReport) -> list[str]:
    """The pairwise judgement: wins, ties, losses, the win rate and the unjudged rows (none
    when no judge ran)."""
    if report.judge_model is None:
        return []
    wins, ties, losses, unjudged = report.outcomes
    line = (
        f"*Win rate* vs base, judged by `{esc(report.judge_model)}`: *{win_rate_text(report.win_rate)}* "
        f"({wins:,} wins, {ties:,} ties, {losses:,} losses)"
    )
    lines = [line]
    if unjudged:
        lines.append(
            f":warning: {unjudged:,} of {report.count:,} rows unjudged (the judge failed on them, or an "
            "answer did); they are left out of the win rate."
        )
    return lines


def judged_blocks(report: EvalReport, count: int = SHOWN_EXAMPLES) -> list[Block]:
    """Up to `count` rows with the judge's verdict and reason."""
    rows = report.judged_examples(count) if report.judge_model else []
    if not rows:
        return []
    lines = [
        f"• {OUTCOME_WORDS.get(row.judged or '', '')}: _{escape_truncated(row.text_input, 150)}_ — "
        f"{escape_truncated(row.judge_reason or '(no reason given)', 400)}"
        for row in rows
    ]
    return [_section("*The judge's reasons*\n" + "\n".join(lines))]


def _answer(text: str, error: str | None) -> str:
    if error is not None:
        return f":x: _{escape_truncated(error, 300)}_"
    return escape_truncated(text, FIELD_LIMIT) if text.strip() else "_(empty answer)_"


def _marks(row: EvalRow, tuned: bool) -> str:
    exact = row.tuned_exact if tuned else row.base_exact
    score = row.tuned_similarity if tuned else row.base_similarity
    return f"{':white_check_mark:' if exact else ':heavy_minus_sign:'} {score:.2f}"


def example_blocks(row: EvalRow) -> list[Block]:
    head = (
        f"*Input:* {escape_truncated(row.text_input, 1200)}\n"
        f"*Expected:* {escape_truncated(row.expected, 1200)}"
    )
    fields = [
        f"*Base* {_marks(row, tuned=False)}\n{_answer(row.base, row.base_error)}",
        f"*Tuned* {_marks(row, tuned=True)}\n{_answer(row.tuned, row.tuned_error)}",
    ]
    return [_section(head, fields)]


def evaluation_blocks(
    report: EvalReport,
    *,
    title: str,
    model: ModelRef | None = None,
    note: str | None = None,
    examples: str = "held-out examples",
) -> tuple[str, list[Block]]:
    """The evaluation message: both scores, the difference, three examples side by side. The
    tuned model is named by `model` (its display name and id) when given, else by its id;
    `examples` says what the rows are ("held-out examples", "examples it was tuned on")."""
    of = f" of {report.available:,}" if report.available > report.count else ""
    tuned = model_named(model) if model is not None else f"`{esc(report.tuned_model)}`"
    sampled = (
        f", sampled at random (seed {report.seed})"
        if report.seed is not None and report.available > report.count
        else ""
    )
    heading = (
        f":bar_chart: *{esc(title)}*: tuned {tuned} vs base `{esc(report.base_model)}` "
        f"on {report.count:,}{of} {examples}{sampled}"
    )
    lines = summary_lines(report) + judge_lines(report)
    blocks: list[Block] = [_section(heading + "\n" + "\n".join(lines))]
    if report.rows:
        blocks.append({"type": "divider"})
        for row in report.showcase(SHOWN_EXAMPLES):
            blocks.extend(example_blocks(row))
        blocks.extend(judged_blocks(report))
    notes = ["Every row is in the CSV file in this thread."]
    if report.judge_model is not None:
        notes.append(WIN_RATE_RULE[0].upper() + WIN_RATE_RULE[1:] + ".")
    if report.errors:
        notes.append(f"{report.errors:,} calls failed after retries; those answers score 0.")
    if note:
        notes.append(note)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " ".join(notes)[:3000]}]})
    text = f"{esc(title)}: exact match base {_percent(report.base_exact_rate)} → tuned " + _percent(
        report.tuned_exact_rate
    )
    if report.win_rate is not None:
        text += f", win rate {_percent(report.win_rate)}"
    return text, blocks


TRAINED_ON_NOTE = "This model was tuned on this dataset: scores on its own training examples flatter it."
TRAINED_ON_EXAMPLES = "examples it was tuned on"
DATASET_EXAMPLES = "examples of the dataset"


def evaluating_text(user_id: str, model: ModelRef, base_model: str, examples: int, dataset: str) -> str:
    """The thread's first message while `/tune eval` runs (the only word the user gets that it started)."""
    return (
        f":hourglass: <@{user_id}> is evaluating {model_named(model)} against its base model "
        f"`{esc(base_model)}` on {examples:,} examples of dataset *{esc(dataset)}*…"
    )


def evaluated_text(user_id: str, model: ModelRef, base_model: str, examples: int, dataset: str) -> str:
    """The thread's first message once `/tune eval` is done (its report and CSV are in the thread)."""
    return (
        f":white_check_mark: <@{user_id}> evaluated {model_named(model)} against its base model "
        f"`{esc(base_model)}` on {examples:,} examples of dataset *{esc(dataset)}*: the scores and "
        "the CSV are in this thread."
    )


def dataset_evaluation_title(dataset: str) -> str:
    """The title of `/tune eval`'s result."""
    return f"Evaluation on {dataset}"


def dataset_evaluation_file_title(model: ModelRef, dataset: str) -> str:
    """The title of `/tune eval`'s CSV file (plain text: the model's display name, else its id)."""
    return f"Evaluation — {model.display_name or short_id(model.model_name)} on {dataset}"


def job_evaluation_title(display_name: str) -> str:
    """The title of the evaluation posted in a finished job's thread."""
    return f"Did tuning help? {display_name}"


def job_evaluation_file_title(display_name: str) -> str:
    """The title of the CSV file of a finished job's evaluation."""
    return f"Evaluation — {display_name}"


def compare_prompt_text(
    user_id: str, tuned_model: ModelRef, base_model: str, prompt: str, system: SystemChoice | None = None
) -> str:
    """A compare thread's first message; `system`: the system instruction both models get."""
    return (
        f"<@{user_id}> is comparing {model_named(tuned_model)} with its base model `{esc(base_model)}`:\n"
        f"{prompt_echo(prompt)}\nReply in this thread and both models answer each message."
        f"{system_line(system, both=True)}"
    )


def compare_blocks(
    *,
    tuned_model: ModelRef,
    base_model: str,
    tuned: str,
    base: str,
    tuned_error: str | None = None,
    base_error: str | None = None,
) -> tuple[str, list[Block]]:
    fields = [
        f"*Base* `{esc(base_model)}`\n{_answer(base, base_error)}",
        f"*Tuned* {model_label(tuned_model)}\n{_answer(tuned, tuned_error)}",
    ]
    text = f"Base: {esc(base[:200])} | Tuned: {esc(tuned[:200])}"
    return text, [_section("*Base and tuned, side by side*", fields)]
