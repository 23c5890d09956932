"""The words of dataset validation: which keys and columns mean input and output, and how
values, sizes and chat records are described to the person who uploaded the file."""

from __future__ import annotations

from typing import Any

from bot.datasets.core import plural

INPUT_NAMES = ("text_input", "textInput", "input", "prompt", "question", "text_in")
OUTPUT_NAMES = ("output", "response", "answer", "completion", "target", "text_output")
SYSTEM_NAMES = ("system", "system_instruction", "systemInstruction", "system_prompt")
# Keys of chat records in formats tunebot does not read (ShareGPT's `conversations`, …).
CHAT_KEYS = ("conversations", "conversation", "turns", "dialogue", "chat", "role", "parts")

FORMATS_TAKEN = (
    "tunebot reads Vertex AI's tuning format (`contents` with `user` and `model` turns, and an optional "
    "`systemInstruction`), OpenAI's chat format (`messages` with `system`, `user` and `assistant`) and "
    "input/output pairs (`text_input` and `output`, with an optional `system`)"
)
CHAT_MESSAGE = "is a chat record in a format tunebot does not read (`{key}`): " + FORMATS_TAKEN
NUL_MESSAGE = "the file contains NUL bytes, so it looks like a binary file, not text"
SAVE_AS_UTF8 = "Save the file as UTF-8 (in Excel: *CSV UTF-8*) and upload it again."


def normalise_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


INPUT_NORMS = tuple(normalise_key(n) for n in INPUT_NAMES)
OUTPUT_NORMS = tuple(normalise_key(n) for n in OUTPUT_NAMES)
SYSTEM_NORMS = tuple(normalise_key(n) for n in SYSTEM_NAMES)
CHAT_NORMS = {normalise_key(k): k for k in CHAT_KEYS}
CONVERSATION_NORMS = {"contents": "vertex", "messages": "openai"}


def chat_problem(key: str, verb: str) -> str:
    """The file-level refusal of a CSV column or a JSON document's key that holds chat records."""
    if normalise_key(key) in CONVERSATION_NORMS:
        return (
            f"the file {verb} `{key}`: conversations are read from JSON Lines, one conversation per line "
            '(`{"contents": [...]}` or `{"messages": [...]}`), or a JSON array of them; ' + FORMATS_TAKEN
        )
    return f"the file {verb} `{key}`, chat records in a format tunebot does not read: " + FORMATS_TAKEN


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
