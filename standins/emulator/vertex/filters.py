"""The `filter` of Vertex's list methods (models.list, tuningJobs.list): the part of AIP-160
(https://google.aip.dev/160) that Vertex documents for them, restrictions joined by `AND`:

    labels.KEY:*          the label KEY is set (has-key; google-genai lists tuned models with
    labels:KEY            `labels.tune-type:*`)
    labels.KEY=VALUE      the label KEY is VALUE (the value quoted or not: labels.KEY="VALUE")
    FIELD=VALUE, FIELD!=VALUE   the fields a list names (models: display_name / displayName, model)

A quoted key (`labels."a key"`) is read as the key. `AND` is a keyword in capitals; `OR`, `NOT`,
`-`, parentheses, other operators and other fields are refused with 400 INVALID_ARGUMENT.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from standins.emulator.core.errors import ApiError, invalid_argument

_RESTRICTION = re.compile(
    r"""(?P<field>[A-Za-z_][A-Za-z0-9_]*)
        (?:\.(?P<key>[a-z][a-z0-9_-]*|"[^"]+"))?
        \s*(?P<op>!=|=|:)\s*
        (?P<value>"[^"]*"|[^\s"()]+)""",
    re.VERBOSE,
)
_AND = re.compile(r"\s+AND\s+")
_KEYWORDS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class Restriction:
    field: str  # "labels", or a field's snake_case name
    op: str  # "=", "!=" or "has" (a label key is set)
    key: str = ""  # the label's key
    value: str = ""


def parse(text: str | None, fields: Mapping[str, tuple[str, ...]] | None = None) -> list[Restriction]:
    """The restrictions of `text` (none when it is empty). `fields` maps each other field a list
    filters on, by its snake_case and camelCase names, to its snake_case name and operators
    (`{"display_name": ("display_name", "=", "!=")}`)."""
    text = (text or "").strip()
    known = fields or {}
    restrictions: list[Restriction] = []
    position = 0
    while text:
        match = _RESTRICTION.match(text, position)
        restriction = _restriction(match, known) if match is not None else None
        if match is None or restriction is None:
            raise _unsupported(text, position)
        restrictions.append(restriction)
        position = match.end()
        if position == len(text):
            break
        separator = _AND.match(text, position)
        if separator is None or separator.end() == len(text):
            raise _unsupported(text, position)
        position = separator.end()
    return restrictions


def _restriction(match: re.Match[str], known: Mapping[str, tuple[str, ...]]) -> Restriction | None:
    field, key, op, value = match["field"], match["key"], match["op"], match["value"]
    if field in _KEYWORDS:
        return None
    quoted = value.startswith('"')
    value = value.strip('"') if quoted else value
    if field == "labels":
        if key is not None:
            key = key.strip('"')
            if op == ":" and value == "*" and not quoted:
                return Restriction("labels", "has", key)
            if op == "=":
                return Restriction("labels", "=", key, value)
            return None
        if op == ":" and value and value != "*":
            return Restriction("labels", "has", value)
        return None
    spec = known.get(field)
    if key is not None or spec is None or op not in spec[1:]:
        return None
    return Restriction(spec[0], op, value=value)


def _unsupported(text: str, position: int) -> ApiError:
    """Vertex names the restriction it cannot read (the rest of it up to the next AND)."""
    term = _AND.split(text[position:], maxsplit=1)[0].strip() or text
    return invalid_argument(f"Unsupported filter: {term}", field="filter")


def matches(restrictions: list[Restriction], labels: Mapping[str, str], values: Mapping[str, str]) -> bool:
    """Whether a resource with these labels and field values passes every restriction."""
    for r in restrictions:
        if r.field == "labels":
            ok = r.key in labels if r.op == "has" else labels.get(r.key) == r.value
        else:
            actual = values.get(r.field)
            ok = actual == r.value if r.op == "=" else actual != r.value
        if not ok:
            return False
    return True
