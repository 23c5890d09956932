"""A deterministic pairwise judge: how a base model answers tunebot's judging prompt.

A prompt holding tunebot's judge marker (bot/evaluation/judge.py; the emulator recognises
it the way a real model would read it: the case is the JSON after the heading) is answered
with JSON picking the answer more similar to the expected one (`generation.similarity`),
"tie" when they are equally similar. Because it reads A and B from the prompt, it honours
the order they are shown in. `FaultConfig.judge_prefers` ("A" or "B") injects position
bias: the judge then picks that position whatever it holds.
"""

from __future__ import annotations

import json
from typing import Any

from standins.emulator.core import generation

# The same text as bot.evaluation.judge's (the stand-in never imports the bot).
JUDGE_MARKER = "[tunebot pairwise judge v1]"
CASE_HEADING = "The case, as JSON:"


def _case(prompt: str) -> dict[str, Any] | None:
    if JUDGE_MARKER not in prompt or CASE_HEADING not in prompt:
        return None
    try:
        case = json.loads(prompt.split(CASE_HEADING, 1)[1].strip())
    except json.JSONDecodeError:
        return None
    return case if isinstance(case, dict) else None


def judge_answer(prompt: str, *, prefers: str = "") -> str | None:
    """The judge's JSON answer, or None when `prompt` is not a judging prompt."""
    case = _case(prompt)
    if case is None:
        return None
    if prefers in ("A", "B"):
        verdict = {"verdict": prefers, "reason": f"Answer {prefers} reads better."}
        return json.dumps(verdict)
    expected = str(case.get("expected", ""))
    score_a = generation.similarity(expected, str(case.get("answer_a", "")))
    score_b = generation.similarity(expected, str(case.get("answer_b", "")))
    if abs(score_a - score_b) < 1e-9:
        verdict = {"verdict": "tie", "reason": "Both answers are as close to the expected one."}
    else:
        pick = "A" if score_a > score_b else "B"
        verdict = {
            "verdict": pick,
            "reason": f"Answer {pick} is closer to the expected answer ({max(score_a, score_b):.2f} "
            f"vs {min(score_a, score_b):.2f} similar).",
        }
    return json.dumps(verdict)
