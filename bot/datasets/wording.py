"""The words of dataset validation: which keys and columns mean input and output, and how
values, sizes and chat records are described to the person who uploaded the file."""

from __future__ import annotations

from typing import Any

from bot.datasets.core import plural

INPUT_NAMES = ("text_input", "textInput", "input", "prompt", "question", "text_in")
OUTPUT_NAMES = ("output", "response", "answer", "completion", "target", "text_output")
CHAT_KEYS = ("messages", "contents", "conversations", "conversation", "turns", "role", "parts")

CHAT_MESSAGE = (
    "is a chat-style record (`{key}`): tunebot and the Gemini tuning API take input/output pairs "
    "only; multi-turn chat records are not supported. Give each example a `text_input` and an `output`."
)
NUL_MESSAGE = "the file contains NUL bytes, so it looks like a binary file, not text"
SAVE_AS_UTF8 = "Save the file as UTF-8 (in Excel: *CSV UTF-8*) and upload it again."


def normalise_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


INPUT_NORMS = tuple(normalise_key(n) for n in INPUT_NAMES)
OUTPUT_NORMS = tuple(normalise_key(n) for n in OUTPUT_NAMES)
CHAT_NORMS = {normalise_key(k): k for k in CHAT_KEYS}


def chat_problem(key: str, verb: str) -> str:
    return "the file " + CHAT_MESSAGE.format(key=key).replace("is a chat", f"{verb} a chat", 1)


def quoted_names(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "text"
    return type(value).__name__


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:,.0f} KB"
    return plural(n, "byte")
