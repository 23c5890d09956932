"""How an answer is scored against the expected output. Pure functions.

Both scores compare *normalised* text: Unicode NFKC, case-folded, whitespace collapsed and
trimmed, so "Four " and "four" are the same answer.
- exact match: the normalised texts are equal;
- similarity: rapidfuzz's normalised Indel similarity (`fuzz.ratio` / 100, 0..1) of the
  normalised texts: 1 for equal texts, 0 for texts with nothing in common.
"""

from __future__ import annotations

import unicodedata

from rapidfuzz import fuzz


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def exact_match(expected: str, answer: str) -> bool:
    return normalise(expected) == normalise(answer)


def similarity(expected: str, answer: str) -> float:
    return float(fuzz.ratio(normalise(expected), normalise(answer))) / 100.0
