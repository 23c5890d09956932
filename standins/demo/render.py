"""Slack messages as terminal text. Pure functions: data in, lines out.

Slack's mrkdwn becomes plain text (mentions as `@name`, links as `label (url)`,
`&lt;`/`&gt;`/`&amp;` unescaped, bold and italic markers dropped, or shown in bold
with `ansi=True`, code spans kept with their backticks), and Block Kit becomes lines
(sections, context elements joined with " · ", buttons as `[ Label ]`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Block = dict[str, Any]

THREAD_PREFIX = "  │ "
BODY_INDENT = "  "
SEPARATOR = " · "
ZERO_WIDTH_SPACE = "\u200b"

EMOJI = {
    "tada": "🎉",
    "white_check_mark": "✅",
    "x": "❌",
    "gear": "⚙",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "stopwatch": "⏱",
    "large_green_circle": "🟢",
    "red_circle": "🔴",
    "grey_question": "❔",
    "no_entry_sign": "🚫",
    "ghost": "👻",
    "warning": "⚠",
    "wave": "👋",
    "wastebasket": "🗑",
    "mag": "🔍",
}

BOLD = "\x1b[1m"
DIM = "\x1b[2m"
RESET = "\x1b[0m"

_ANGLE = re.compile(r"<([^<>\n]+)>")
_CODE_SPAN = re.compile(r"(```.*?```|`[^`\n]+`)", re.DOTALL)
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")
# Slack only treats a marker as formatting at a word boundary; tunebot's escaping puts a
# zero-width space next to literal markers, so those are left alone here as well.
_BOLD = re.compile(r"(?<![\w\u200b*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w\u200b*])")
_ITALIC = re.compile(r"(?<![\w\u200b_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\w\u200b_])")
_QUOTE = re.compile(r"^>[ ]?", re.MULTILINE)  # a real quote: a literal `>` is sent as `&gt;`
_STASHED = re.compile(r"\x00(\d+)\x00")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------- mrkdwn


def format_mrkdwn(text: str, users: Mapping[str, str], *, emoji: bool = True, ansi: bool = False) -> str:
    """Slack mrkdwn -> what a reader sees, as plain terminal text."""
    codes: list[str] = []

    def stash(match: re.Match[str]) -> str:
        codes.append(match.group(0))
        return f"\x00{len(codes) - 1}\x00"

    shown = _CODE_SPAN.sub(stash, text)  # code spans: no formatting, no emoji inside
    shown = _QUOTE.sub("> ", shown)
    shown = _ANGLE.sub(lambda match: _angle(match.group(1), users), shown)
    shown = _BOLD.sub(lambda match: f"{BOLD}{match.group(1)}{RESET}" if ansi else match.group(1), shown)
    shown = _ITALIC.sub(lambda match: match.group(1), shown)
    if emoji:
        shown = _EMOJI_CODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), shown)
    shown = _unescape(shown)
    shown = _STASHED.sub(lambda match: _unescape(codes[int(match.group(1))]), shown)
    return shown.replace(ZERO_WIDTH_SPACE, "")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _angle(inner: str, users: Mapping[str, str]) -> str:
    """`<@U1>`, `<#C1|general>`, `<!here>`, `<https://x|label>` as a reader sees them."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user_id = target[1:]
        return "@" + (users.get(user_id) or label or user_id)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return label or "@" + name
    if label:
        return f"{label} ({target})"
    return target


# --------------------------------------------------------------------------- blocks


def plain_text(obj: Any, users: Mapping[str, str], *, emoji: bool = True, ansi: bool = False) -> str:
    """A Block Kit text object (mrkdwn or plain_text) as terminal text."""
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return format_mrkdwn(text, users, emoji=emoji, ansi=ansi)
    if emoji:
        text = _EMOJI_CODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), text)
    return text


def button_label(element: Mapping[str, Any]) -> str:
    text = element.get("text")
    return str(text.get("text") or "") if isinstance(text, dict) else ""


def element_text(element: Mapping[str, Any], users: Mapping[str, str], *, emoji: bool, ansi: bool) -> str:
    kind = element.get("type")
    if kind == "button":
        return f"[ {plain_text(element.get('text'), users, emoji=emoji)} ]"
    if kind in ("static_select", "external_select", "users_select", "conversations_select"):
        chosen = element.get("initial_option") or {}
        label = plain_text(chosen.get("text"), users, emoji=emoji) if chosen else ""
        placeholder = plain_text(element.get("placeholder"), users, emoji=emoji)
        return f"[ {label or placeholder or 'choose'} ▾ ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return plain_text(element, users, emoji=emoji, ansi=ansi)
    return f"[{kind}]"


def block_lines(
    blocks: Sequence[Block], users: Mapping[str, str], *, emoji: bool = True, ansi: bool = False
) -> list[str]:
    """Block Kit blocks -> lines of text."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            if block.get("text"):
                lines.extend(plain_text(block["text"], users, emoji=emoji, ansi=ansi).split("\n"))
            for item in block.get("fields") or []:
                lines.extend(plain_text(item, users, emoji=emoji, ansi=ansi).split("\n"))
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                lines.append(element_text(accessory, users, emoji=emoji, ansi=ansi))
        elif kind == "header":
            title = plain_text(block.get("text"), users, emoji=emoji)
            lines.append(f"{BOLD}{title}{RESET}" if ansi else title)
        elif kind == "context":
            parts = [
                element_text(e, users, emoji=emoji, ansi=ansi)
                for e in block.get("elements") or []
                if isinstance(e, dict)
            ]
            line = SEPARATOR.join(part for part in parts if part)
            lines.append(f"{DIM}{line}{RESET}" if ansi else line)
        elif kind == "actions":
            parts = [element_text(e, users, emoji=emoji, ansi=ansi) for e in block.get("elements") or []]
            lines.append("  ".join(parts))
        elif kind == "divider":
            lines.append("─" * 20)
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "input":
            label = plain_text(block.get("label"), users, emoji=emoji)
            optional = " (optional)" if block.get("optional") else ""
            element = block.get("element") or {}
            initial = element.get("initial_value")
            value = f" = {initial}" if initial else ""
            lines.append(f"{label}{optional}: {element.get('type', 'input')}{value}")
        elif kind == "rich_text":
            lines.append(_rich_text(block))
    return lines


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "user":
            return "@" + str(node.get("user_id", ""))
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    return ""


def body_lines(
    text: str,
    blocks: Sequence[Block] | None,
    users: Mapping[str, str],
    *,
    emoji: bool = True,
    ansi: bool = False,
) -> list[str]:
    """What Slack shows for a message: its blocks, or its text when it has none."""
    if blocks:
        return block_lines(blocks, users, emoji=emoji, ansi=ansi)
    if not text:
        return []
    return format_mrkdwn(text, users, emoji=emoji, ansi=ansi).split("\n")


def buttons(blocks: Sequence[Block] | None) -> list[dict[str, Any]]:
    """Every button in `blocks` (actions blocks and section accessories), in order."""
    found: list[dict[str, Any]] = []
    for block in blocks or []:
        candidates: list[Any] = []
        if block.get("type") == "actions":
            candidates.extend(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        found.extend(e for e in candidates if isinstance(e, dict) and e.get("type") == "button")
    return found


def find_button(blocks: Sequence[Block] | None, label: str) -> dict[str, Any] | None:
    """The button whose label is `label` (case and surrounding spaces ignored)."""
    wanted = " ".join(label.split()).casefold()
    for button in buttons(blocks):
        if " ".join(button_label(button).split()).casefold() == wanted:
            return button
    return None


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class SavedFile:
    name: str
    title: str
    path: str | None  # where the demo saved it, or None


@dataclass(frozen=True)
class Entry:
    """One message as the terminal shows it."""

    author: str
    ts: str
    text: str
    blocks: list[Block] | None = None
    kind: Literal["message", "ephemeral"] = "message"
    in_thread: bool = False
    edited: bool = False
    broadcast: bool = False
    files: tuple[SavedFile, ...] = field(default_factory=tuple)


def clock(ts: str) -> str:
    """A Slack ts as local HH:MM."""
    try:
        return datetime.fromtimestamp(float(ts)).strftime("%H:%M")
    except (ValueError, OverflowError, OSError):
        return "--:--"


def render_entry(
    entry: Entry, users: Mapping[str, str], *, emoji: bool = True, ansi: bool = False
) -> list[str]:
    """Header (`author  HH:MM  (markers)`) and indented body; thread replies prefixed `  │ `."""
    markers: list[str] = []
    if entry.kind == "ephemeral":
        markers.append("only visible to you")
    if entry.broadcast:
        markers.append("also sent to the channel")
    if entry.edited:
        markers.append("edited")
    author = f"{BOLD}{entry.author}{RESET}" if ansi else entry.author
    header = f"{author}  {clock(entry.ts)}"
    if markers:
        note = "(" + ", ".join(markers) + ")"
        header += "  " + (f"{DIM}{note}{RESET}" if ansi else note)
    lines = [header]
    lines.extend(
        BODY_INDENT + line for line in body_lines(entry.text, entry.blocks, users, emoji=emoji, ansi=ansi)
    )
    for saved in entry.files:
        clip = "📎" if emoji else "[file]"
        where = f" saved to {saved.path}" if saved.path else ""
        title = f" ({saved.title})" if saved.title and saved.title != saved.name else ""
        lines.append(f"{BODY_INDENT}{clip} {saved.name}{title}{where}")
    if entry.in_thread:
        lines = [THREAD_PREFIX + line for line in lines]
    return lines


def thread_intro(
    parent_author: str, parent_text: str, users: Mapping[str, str], *, emoji: bool = True
) -> str:
    """The line shown before a reply when its thread is not the one printed last."""
    first = format_mrkdwn(parent_text, users, emoji=emoji).replace("\n", " ").strip()
    if len(first) > 60:
        first = first[:59] + "…"
    return f"  ╭ in the thread of {parent_author}: “{first}”"


def render_view(view: Mapping[str, Any], users: Mapping[str, str], *, emoji: bool = True) -> list[str]:
    """A modal, compactly: its title, its inputs, its buttons."""
    title = plain_text(view.get("title"), users, emoji=emoji)
    lines = [f"┌ form “{title}”"]
    lines.extend("│ " + line for line in block_lines(list(view.get("blocks") or []), users, emoji=emoji))
    close = plain_text(view.get("close"), users, emoji=emoji)
    submit = plain_text(view.get("submit"), users, emoji=emoji)
    lines.append("└ " + "  ".join(f"[ {label} ]" for label in (close, submit) if label))
    return lines


def render_home(view: Mapping[str, Any], users: Mapping[str, str], *, emoji: bool = True) -> list[str]:
    """The Home tab as the person sees it when they open it."""
    lines = ["┌ tunebot · Home"]
    lines.extend("│ " + line for line in block_lines(list(view.get("blocks") or []), users, emoji=emoji))
    lines.append("└ (`click LABEL` presses a button here)")
    return lines


def render_confirm(confirm: Mapping[str, Any], users: Mapping[str, str], *, emoji: bool = True) -> list[str]:
    """A button's confirmation dialog and how to answer it."""
    title = plain_text(confirm.get("title"), users, emoji=emoji) or "Are you sure?"
    text = plain_text(confirm.get("text"), users, emoji=emoji)
    deny = plain_text(confirm.get("deny"), users, emoji=emoji) or "Cancel"
    ok = plain_text(confirm.get("confirm"), users, emoji=emoji) or "Yes"
    lines = [f"┌ {title}"]
    lines.extend("│ " + line for line in text.split("\n") if text)
    lines.append(f"└ [ {deny} ]  [ {ok} ]    type `confirm` or `cancel`")
    return lines


# --------------------------------------------------------------------------- widths


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def display_width(text: str) -> int:
    """Terminal columns `text` takes (wide and emoji characters count 2, ANSI codes 0)."""
    width = 0
    for char in strip_ansi(text):
        if unicodedata.combining(char) or char == ZERO_WIDTH_SPACE:
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def rows(lines: Iterable[str], columns: int) -> int:
    """How many terminal rows `lines` take once wrapped at `columns`."""
    columns = max(1, columns)
    return sum(max(1, -(-display_width(line) // columns)) for line in lines)
