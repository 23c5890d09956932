"""Conversations as Vertex AI and OpenAI write them, read one record at a time.

- Vertex AI's supervised-tuning JSONL: `{"systemInstruction": {"parts": [{"text": …}]},
  "contents": [{"role": "user", "parts": [{"text": …}]}, {"role": "model", …}, …]}`. A turn's
  text parts are joined (Vertex concatenates them).
- OpenAI's chat fine-tuning JSONL: `{"messages": [{"role": "system", "content": …},
  {"role": "user", …}, {"role": "assistant", …}, …]}`; `developer` counts as `system`, and
  `content` is text or a list of `{"type": "text", "text": …}` parts. An assistant's `weight`
  is counted (the caller warns once): Vertex AI trains on every model turn.

Either becomes one TrainingExample (the last user turn, the last model turn, the turns before
them, the system instruction), handed to `Collector.accept`. Turns must alternate user, model,
… starting with user and ending with model; anything that is not text (images, audio,
documents, function calls) is refused for its row, naming the turn and the kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.datasets.wording import type_name
from bot.domain.types import TrainingExample

if TYPE_CHECKING:
    from bot.datasets.collector import Collector

TEXT_ONLY = "tunebot tunes on text only"
_MIME_KINDS = (("image/", "an image"), ("audio/", "audio"), ("video/", "a video"), ("text/", "a text file"))
_VERTEX_NON_TEXT = {
    "functionCall": "a function call",
    "functionResponse": "a function response",
    "executableCode": "code to run",
    "codeExecutionResult": "a code execution result",
}
_OPENAI_PART_KINDS = {
    "image_url": "an image",
    "input_image": "an image",
    "input_audio": "audio",
    "audio": "audio",
    "file": "a file",
    "input_file": "a file",
    "refusal": "a refusal",
}
_NEXT = {"user": "model", "model": "user"}


def _name(text: str) -> str:
    """A name from the file (a role, a key) fit to quote in a problem: short, no backticks."""
    text = text.replace("`", "'")
    return text if len(text) <= 40 else text[:39] + "…"


def _mime_kind(value: Any) -> str:
    mime = value.get("mimeType") or value.get("mime_type") if isinstance(value, dict) else None
    if isinstance(mime, str):
        if mime == "application/pdf":
            return "a PDF document"
        for prefix, kind in _MIME_KINDS:
            if mime.startswith(prefix):
                return kind
    return "a file"


# ---- Vertex AI -----------------------------------------------------------------------------


def _vertex_parts(
    col: Collector, location: str, where: str | None, parts: Any, what: str, field: str | None = None
) -> str | None:
    """The text of a Vertex `Content`'s parts, or None (problems reported for `where`, a turn,
    or `field`, the system instruction)."""
    if not isinstance(parts, list):
        if parts is None:
            message = f'has no `parts`; give {what} `"parts": [{{"text": "…"}}]`'
        else:
            message = f'`parts` is {type_name(parts)}, not a list like `[{{"text": "…"}}]`'
        col.problem(location, field, message, turn=where)
        return None
    if not parts:
        col.problem(location, field, f'has no parts (`"parts": []`); give {what} its text', turn=where)
        return None
    texts: list[str] = []
    for part in parts:
        if isinstance(part, dict):
            text = part.get("text")
            if isinstance(text, str):
                texts.append(text)
                continue
            for key in ("inlineData", "fileData", "inline_data", "file_data"):
                if key in part:
                    kind = _mime_kind(part[key])
                    col.problem(location, field, f"holds {kind} (`{key}`); {TEXT_ONLY}", turn=where)
                    return None
            for key, kind in _VERTEX_NON_TEXT.items():
                if key in part:
                    col.problem(
                        location, field, f"holds {kind} (`{key}`); {TEXT_ONLY}: leave it out", turn=where
                    )
                    return None
            if "text" in part:
                message = f"a part's `text` is {type_name(part['text'])}, not text"
            else:
                found = ", ".join(f"`{_name(k)}`" for k in list(part)[:6]) or "no keys"
                message = f'has a part without `text` (found {found}); each part is `{{"text": "…"}}`'
        else:
            message = f'has a part that is {type_name(part)}, not an object like `{{"text": "…"}}`'
        col.problem(location, field, message, turn=where)
        return None
    return texts[0] if len(texts) == 1 else "".join(texts)


def _vertex_role_problem(role: Any, expected: str, index: int) -> str:
    if not isinstance(role, str):
        return (
            'has no `role`; each turn needs `"role": "user"` or `"role": "model"`, alternating and '
            "starting with `user`"
            if role is None
            else f'`role` is {type_name(role)}; use `"user"` or `"model"`'
        )
    if role == "assistant":
        return 'has role `assistant`; Vertex AI names the model\'s turns `"model"`'
    if role == "system":
        return "is a `system` turn; put the system instruction in `systemInstruction`, not in `contents`"
    if role not in _NEXT:
        return f"has role `{_name(role)}`; the roles are `user` and `model`"
    if index == 1:
        return "is a `model` turn; a conversation starts with a `user` turn"
    return (
        f"is a `{role}` turn after a `{role}` turn; turns must alternate `user`, `model`, `user`, … "
        "(merge the two, or add the missing turn between them)"
    )


def vertex_record(
    col: Collector, location: str, record: dict[str, Any], key: str, sys_key: str | None
) -> None:
    system: str | None = None
    good = True
    if sys_key is not None:
        value = record[sys_key]
        if isinstance(value, dict):
            joined = _vertex_parts(col, location, None, value.get("parts"), "the system instruction", sys_key)
            good, system = (False, None) if joined is None else col.system_text(location, sys_key, joined)
        elif isinstance(value, str) or value is None:
            good, system = col.system_text(location, sys_key, value)
        else:
            col.problem(
                location,
                sys_key,
                f'is {type_name(value)}, not an object like `{{"parts": [{{"text": "…"}}]}}`',
            )
            good = False
    contents = record[key]
    if not isinstance(contents, list):
        col.problem(
            location,
            key,
            f"is {type_name(contents)}, not a list of turns like "
            '`[{"role": "user", "parts": [{"text": "…"}]}, …]`',
        )
        return
    if not contents:
        col.problem(
            location,
            key,
            "is empty; give the conversation a `user` turn and the `model` turn that answers it",
        )
        return
    texts: list[str] = []
    expected = "user"
    index = 0
    for turn in contents:
        index += 1
        text: Any = None
        # The usual turn: the expected role and one part holding only text.
        if type(turn) is dict and turn.get("role") == expected:
            parts = turn.get("parts")
            if type(parts) is list and len(parts) == 1:
                part = parts[0]
                if type(part) is dict and len(part) == 1:
                    text = part.get("text")
        if type(text) is not str or not text or text.isspace():
            text = _vertex_turn(col, location, turn, expected, index)
            if text is _STOP:
                return
            if text is None:
                good = False
                text = ""
        texts.append(text)
        expected = _NEXT[expected]
    if expected == "model":
        col.problem(
            location,
            None,
            "the conversation ends with a `user` turn; it must end with the `model` turn that answers it "
            "(add the answer, or remove the last turn)",
            turn=f"turn {index}",
        )
        return
    if col.check_turns and not col.turns_fine(location, texts, "turn"):
        return
    if good:
        col.accept(location, _example(texts, system))


_STOP: Any = object()


def _vertex_turn(col: Collector, location: str, turn: Any, expected: str, index: int) -> Any:
    """A turn off the fast path: its text, None (a problem with this turn; keep checking the
    others) or _STOP (the conversation cannot be read further)."""
    where = f"turn {index}"
    if type(turn) is not dict:
        col.problem(
            location,
            None,
            f'is {type_name(turn)}, not a turn like `{{"role": "user", "parts": [{{"text": "…"}}]}}`',
            turn=where,
        )
        return _STOP
    role = turn.get("role")
    if role != expected:
        col.problem(location, None, _vertex_role_problem(role, expected, index), turn=where)
        return _STOP
    text = _vertex_parts(col, location, where, turn.get("parts"), "the turn")
    if text is None or col.blank_turn(location, where, text):
        return None
    return text


# ---- OpenAI --------------------------------------------------------------------------------


def _openai_content(col: Collector, location: str, where: str, message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if type(content) is str:
        return content
    for key in ("tool_calls", "function_call"):
        if message.get(key):
            col.problem(
                location, None, f"holds a function call (`{key}`); {TEXT_ONLY}: leave it out", turn=where
            )
            return None
    if isinstance(content, list):
        texts: list[str] = []
        for part in content:
            kind = part.get("type") if isinstance(part, dict) else None
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
                continue
            if isinstance(kind, str) and kind in _OPENAI_PART_KINDS:
                col.problem(
                    location, None, f"holds {_OPENAI_PART_KINDS[kind]} (`{kind}`); {TEXT_ONLY}", turn=where
                )
            elif isinstance(kind, str):
                col.problem(location, None, f"holds a `{_name(kind)}` part; {TEXT_ONLY}", turn=where)
            else:
                col.problem(
                    location,
                    None,
                    'has a content part that is not `{"type": "text", "text": "…"}`',
                    turn=where,
                )
            return None
        if not texts:
            col.problem(location, None, "`content` is an empty list; give the message its text", turn=where)
            return None
        return texts[0] if len(texts) == 1 else "".join(texts)
    if content is None:
        col.problem(location, None, "has no `content`; give the message its text", turn=where)
    else:
        col.problem(location, None, f"`content` is {type_name(content)}, not text", turn=where)
    return None


def _openai_role_problem(role: Any, expected: str, index: int, started: bool) -> str:
    if not isinstance(role, str):
        return "has no `role`; each message needs `system`, `user` or `assistant`"
    if role in ("tool", "function"):
        return f"is a tool result (role `{role}`); {TEXT_ONLY}: leave out tool calls and their results"
    if role in ("system", "developer"):
        return (
            f"is a `{role}` message after the conversation has started; Vertex AI takes one system "
            "instruction, before the turns: move it to the start"
        )
    if role == "model":
        return "has role `model`; in OpenAI's format the model's turns are `assistant`"
    if role not in ("user", "assistant"):
        return f"has role `{_name(role)}`; the roles are `system`, `user` and `assistant`"
    if not started:
        return "is an `assistant` message before any `user` message; a conversation starts with `user`"
    return (
        f"is a `{role}` message after a `{role}` message; messages must alternate `user`, `assistant`, … "
        "(merge the two, or add the missing message between them)"
    )


def openai_record(col: Collector, location: str, record: dict[str, Any], key: str) -> None:
    messages = record[key]
    if not isinstance(messages, list):
        col.problem(
            location,
            key,
            f"is {type_name(messages)}, not a list of messages like "
            '`[{"role": "user", "content": "…"}, …]`',
        )
        return
    if not messages:
        col.problem(
            location,
            key,
            "is empty; give the conversation a `user` message and the `assistant` message that answers it",
        )
        return
    good = True
    systems: list[str] = []
    leading = 0  # system messages before the first user message
    texts: list[str] = []
    expected = "user"
    index = 0
    for message in messages:
        index += 1
        where = f"message {index}"
        if type(message) is not dict:
            col.problem(location, None, f"is {type_name(message)}, not a message object", turn=where)
            return
        role = message.get("role")
        if not texts and (role == "system" or role == "developer"):
            leading += 1
            text = _openai_content(col, location, where, message)
            if text is None:
                good = False
            elif text:
                systems.append(text)
            continue
        if role != ("user" if expected == "user" else "assistant"):
            col.problem(location, None, _openai_role_problem(role, expected, index, bool(texts)), turn=where)
            return
        if expected == "model" and "weight" in message:
            col.weighted += 1
        text = _openai_content(col, location, where, message)
        if text is None or col.blank_turn(location, where, text):
            good = False
            text = ""
        texts.append(text)
        expected = _NEXT[expected]
    if not texts:
        col.problem(
            location,
            key,
            "holds only a system message; add a `user` message and the `assistant` message that answers it",
        )
        return
    if expected == "model":
        col.problem(
            location,
            None,
            "the conversation ends with a `user` message; it must end with the `assistant` message that "
            "answers it (add the answer, or remove the last message)",
            turn=f"message {index}",
        )
        return
    if col.check_turns and not col.turns_fine(location, texts, "message", leading):
        return
    system = None
    if systems:
        fine, system = col.system_text(location, "system", "\n\n".join(systems))
        good = good and fine
    if good:
        col.accept(location, _example(texts, system))


def _example(texts: list[str], system: str | None) -> TrainingExample:
    if len(texts) == 2:
        return TrainingExample(texts[0], texts[1], (), system)
    return TrainingExample(texts[-2], texts[-1], tuple(texts[:-2]), system)
