"""The pairwise judge: which of two answers to a prompt is better, asked in both orders.

A judge model (a base model, `TUNEBOT_JUDGE_MODEL`) sees the prompt (with a conversation's
earlier turns and system instruction), the expected answer and two answers, "A" and "B",
and answers JSON: `{"verdict": "A" | "B" | "tie", "reason": "..."}`. Judges prefer the
answer in one position more often than they should, so every row is judged twice, the
tuned model's answer first as A, then as B:

- a **win** only when both orders pick the tuned model's answer;
- a **loss** only when both orders pick the base model's answer;
- a **tie** otherwise: both say tie, one says tie, or the two orders disagree (a judge that
  always picks A, whatever A is, gives nothing but ties).

A judge call that fails after the evaluation's retries (or answers something that is not
the JSON asked for) leaves its row unjudged; the report counts those rows.

The win rate is (wins + ½ ties) / judged rows: 1 when the tuned model is always better,
½ when the judge cannot tell them apart, 0 when the base model is always better.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.domain.types import Conversation

# What the emulator (and a reader of logs) recognises a judging prompt by.
JUDGE_MARKER = "[tunebot pairwise judge v1]"
CASE_HEADING = "The case, as JSON:"

JUDGE_INSTRUCTIONS = (
    "You are an impartial judge of answers. Given a prompt, the answer the user expected and two "
    "candidate answers, A and B, decide which candidate answers the prompt better: correct, "
    "complete and as close to the expected answer in content and form as possible. Ignore the "
    "order in which the candidates are shown and their length unless it matters. Answer with "
    'JSON only: {"verdict": "A", "B" or "tie", "reason": one short sentence}.'
)

# generationConfig.responseSchema (the OpenAPI subset both Vertex AI and the Gemini API take).
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "OBJECT",
    "properties": {
        "verdict": {"type": "STRING", "enum": ["A", "B", "tie"]},
        "reason": {"type": "STRING"},
    },
    "required": ["verdict", "reason"],
}

REASON_LIMIT = 500


class Outcome(StrEnum):
    WIN = "win"
    TIE = "tie"
    LOSS = "loss"


@dataclass(frozen=True)
class Verdict:
    """One order's answer: "A", "B" or "tie", and why."""

    pick: str
    reason: str


@dataclass(frozen=True)
class Judgement:
    """A row's judgement (outcome None: unjudged, with the error)."""

    outcome: Outcome | None
    reason: str = ""
    error: str | None = None


def judge_prompt(
    *, prompt: str, expected: str, answer_a: str, answer_b: str, context: Conversation | None = None
) -> str:
    """The judging prompt: the marker, the task, and the case as one JSON object (so that
    nothing in the user's text can pass for the prompt's own structure)."""
    case: dict[str, Any] = {}
    if context is not None and context.system:
        case["system_instruction"] = context.system
    if context is not None and context.history:
        case["earlier_turns"] = [{"role": turn.role, "text": turn.text} for turn in context.history]
    case |= {"prompt": prompt, "expected": expected, "answer_a": answer_a, "answer_b": answer_b}
    return (
        f"{JUDGE_MARKER}\n"
        "Which answer, A or B, answers the prompt better, given the expected answer? "
        'Reply with JSON: {"verdict": "A" | "B" | "tie", "reason": "..."}.\n'
        f"{CASE_HEADING}\n{json.dumps(case, ensure_ascii=False)}"
    )


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.IGNORECASE)
_PICKS = {"a": "A", "answer a": "A", "b": "B", "answer b": "B", "tie": "tie", "equal": "tie", "draw": "tie"}


def parse_verdict(text: str) -> Verdict:
    """The judge's answer read defensively (code fences, text around the JSON, `"a"`,
    `"Answer B"`, `"TIE"`); raises ValueError when there is no verdict in it."""
    body = _FENCE.sub("", text.strip())
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        raise ValueError("the judge did not answer JSON")
    try:
        data = json.loads(body[start : end + 1])
    except json.JSONDecodeError as exc:
        raise ValueError("the judge did not answer JSON") from exc
    if not isinstance(data, dict):
        raise ValueError("the judge did not answer a JSON object")
    pick = _PICKS.get(str(data.get("verdict", "")).strip().casefold())
    if pick is None:
        raise ValueError(f"the judge's verdict {str(data.get('verdict'))[:40]!r} is not A, B or tie")
    reason = data.get("reason")
    return Verdict(pick, str(reason).strip()[:REASON_LIMIT] if reason is not None else "")


def combine(tuned_first: Verdict, tuned_second: Verdict) -> Judgement:
    """The both-orders rule. `tuned_first`: the verdict with the tuned answer as A;
    `tuned_second`: with it as B."""
    tuned_picked = (tuned_first.pick == "A", tuned_second.pick == "B")
    base_picked = (tuned_first.pick == "B", tuned_second.pick == "A")
    if all(tuned_picked):
        return Judgement(Outcome.WIN, tuned_first.reason)
    if all(base_picked):
        return Judgement(Outcome.LOSS, tuned_first.reason)
    if tuned_first.pick == tuned_second.pick == "tie":
        return Judgement(Outcome.TIE, tuned_first.reason)
    reason = "the two orders disagree: " + tuned_first.reason
    return Judgement(Outcome.TIE, reason[:REASON_LIMIT])


Ask = Callable[[str], Awaitable[tuple[str, str | None]]]


async def judge_row(
    ask: Ask,
    *,
    prompt: str,
    expected: str,
    tuned: str,
    base: str,
    context: Conversation | None = None,
) -> Judgement:
    """Both orders through `ask` (the prompt -> (answer, None) or ("", error), retries done)."""
    texts = [
        judge_prompt(prompt=prompt, expected=expected, answer_a=a, answer_b=b, context=context)
        for a, b in ((tuned, base), (base, tuned))
    ]
    answers = await asyncio.gather(*(ask(text) for text in texts))
    verdicts: list[Verdict] = []
    for answer, error in answers:
        if error is not None:
            return Judgement(None, error=f"the judge failed: {error}")
        try:
            verdicts.append(parse_verdict(answer))
        except ValueError as exc:
            return Judgement(None, error=str(exc))
    return combine(verdicts[0], verdicts[1])


def win_rate(wins: int, ties: int, losses: int) -> float | None:
    """(wins + ½ ties) / judged rows; None when no row was judged."""
    judged = wins + ties + losses
    return (wins + ties / 2) / judged if judged else None


def outcomes(values: Sequence[str | None]) -> tuple[int, int, int, int]:
    """(wins, ties, losses, unjudged) of rows' stored outcomes."""
    return (
        sum(v == Outcome.WIN for v in values),
        sum(v == Outcome.TIE for v in values),
        sum(v == Outcome.LOSS for v in values),
        sum(v is None for v in values),
    )
