"""What an emulated tuned model answers: no model, only the training examples.

The answer is the output of the training input most similar to the prompt (character
bigrams, word overlap and the "shape" of the text: digits vs letters vs signs). When the
prompt and that nearest example are both plain numbers, the example's numeric step is
applied to the prompt instead (`-98 -> -97` turns `55` into `56`), so the tutorial's
"next number" model gives sensible answers. Deterministic: ties go to the earlier example.

A base (untuned) model has seen none of the examples: `base_answer` replies in the generic,
chatty way an instruction model does to a terse prompt, so it never matches a tuned task's
expected output and an evaluation can show that tuning helped.

A Vertex model answers a whole conversation (`answer_conversation`): every model turn of every
training conversation is a candidate answer, scored by how alike its user turn is to the last
one asked, how alike the turns before it are to the conversation's earlier turns, and whether
the system instruction matches the one it was tuned with. So a model tuned on conversations
answers a follow-up from its history, and a system instruction it learnt changes its answer,
deterministically; a one-turn prompt without a system instruction is answered as `answer` does.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_NUMBER = re.compile(r"^\s*(-?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*$")
_WORD = re.compile(r"\w+", re.UNICODE)


def _bigrams(text: str) -> list[str]:
    padded = f" {text} "
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


def _dice(a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return 0.0
    remaining = list(b)
    common = 0
    for gram in a:
        if gram in remaining:
            remaining.remove(gram)
            common += 1
    return 2.0 * common / (len(a) + len(b))


def _shape(text: str) -> str:
    out = []
    for ch in text:
        if ch.isdigit():
            out.append("9")
        elif ch.isalpha():
            out.append("a" if ch.isascii() else unicodedata.category(ch)[0].lower() + "x")
        elif ch.isspace():
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text))


def similarity(a: str, b: str) -> float:
    """0..1: how alike two texts look (not what they mean)."""
    a_norm, b_norm = a.strip().lower(), b.strip().lower()
    if a_norm == b_norm:
        return 1.0
    chars = _dice(_bigrams(a_norm), _bigrams(b_norm))
    wa, wb = _words(a_norm), _words(b_norm)
    words = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    shape = _dice(_bigrams(_shape(a_norm)), _bigrams(_shape(b_norm)))
    return 0.5 * chars + 0.3 * words + 0.2 * shape


def _as_number(text: str) -> tuple[int, bool] | None:
    """`"1,000"` -> (1000, True); only integers (with optional thousands commas)."""
    match = _NUMBER.match(text)
    if not match or match.group(3):
        return None
    sign, digits = match.group(1), match.group(2)
    value = int(digits.replace(",", ""))
    return (-value if sign else value), "," in digits


def _format_number(value: int, commas: bool) -> str:
    return f"{value:,}" if commas else str(value)


def nearest_example(prompt: str, examples: Sequence[tuple[str, str]]) -> int | None:
    """Index of the training example whose input is most similar to `prompt`."""
    best_index: int | None = None
    best_score = -math.inf
    for index, (text_input, _output) in enumerate(examples):
        score = similarity(prompt, text_input)
        if score > best_score:
            best_index, best_score = index, score
    return best_index


def answer(prompt: str, examples: Sequence[tuple[str, str]]) -> str:
    """The emulated model's reply to `prompt`."""
    index = nearest_example(prompt, examples)
    if index is None:
        return ""
    return _reply(prompt, *examples[index])


@dataclass(frozen=True)
class Example:
    """A training example as a Vertex tuning file holds it: turns alternating user and model,
    ending with a model turn, and an optional system instruction."""

    turns: tuple[str, ...]
    system: str | None = None

    @property
    def text_input(self) -> str:
        return self.turns[-2]

    @property
    def output(self) -> str:
        return self.turns[-1]


CONTEXT_WEIGHT = 0.5  # how much matching earlier turns count beside the last user turn
SYSTEM_WEIGHT = 0.5  # and a matching system instruction


def _alike(asked: str | None, learnt: str | None) -> float:
    """1 when both are absent, 0 when one is, else their similarity."""
    if not asked and not learnt:
        return 1.0
    if not asked or not learnt:
        return 0.0
    return similarity(asked, learnt)


def answer_conversation(
    history: Sequence[str], prompt: str, system: str | None, examples: Sequence[Example]
) -> str:
    """What an emulated tuned model answers to `prompt` after the conversation's earlier turns
    (`history`, user first, alternating) under `system`. Ties go to the earlier example, and
    within one to its earlier turn."""
    asked_context = "\n".join(history)
    best: tuple[str, str] | None = None
    best_score = -math.inf
    for example in examples:
        for index in range(1, len(example.turns), 2):
            user, learnt = example.turns[index - 1], example.turns[index]
            score = (
                similarity(prompt, user)
                + CONTEXT_WEIGHT * _alike(asked_context, "\n".join(example.turns[: index - 1]))
                + SYSTEM_WEIGHT * _alike(system, example.system)
            )
            if score > best_score:
                best, best_score = (user, learnt), score
    return "" if best is None else _reply(prompt, *best)


def _reply(prompt: str, text_input: str, output: str) -> str:
    """The output learnt for `text_input`, or its numeric step applied to a numeric prompt."""
    if prompt.strip() == text_input.strip():
        return output
    asked, given, taught = _as_number(prompt), _as_number(text_input), _as_number(output)
    if asked is not None and given is not None and taught is not None:
        return _format_number(asked[0] + (taught[0] - given[0]), asked[1] or taught[1])
    return output


BASE_PROMPT_SHOWN = 120
BASE_SYSTEM_SHOWN = 60


def _shown(text: str, limit: int) -> str:
    shown = " ".join(text.split())
    return shown[: limit - 1] + "…" if len(shown) > limit else shown


def base_answer(prompt: str, *, earlier_turns: int = 0, system: str | None = None) -> str:
    """What an emulated base model answers: a polite, generic reply that restates the prompt
    (and, in a conversation, how many turns came before it and the system instruction it
    follows, so that tests can see both arrived)."""
    reply = f'Thanks for your message "{_shown(prompt, BASE_PROMPT_SHOWN)}".'
    if earlier_turns:
        reply += f" (We have exchanged {earlier_turns} messages before this one.)"
    reply += " Could you tell me a little more about what you need?"
    if system:
        reply = f'[As instructed: "{_shown(system, BASE_SYSTEM_SHOWN)}"] ' + reply
    return reply


def count_tokens(text: str) -> int:
    """A rough token count (about four characters a token, at least one for non-empty text)."""
    return 0 if not text else max(1, math.ceil(len(text) / 4))
