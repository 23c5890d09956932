"""Proto-JSON request parsing the way Google's JSON front end does it (every surface uses it).

* Field names may be snake_case or lowerCamelCase; both map to the proto field.
* Unknown fields are rejected: `Invalid JSON payload received. Unknown name "foo" at
  'tuned_model': Cannot find field.`
* Values are type-checked per field (`Invalid value at 'tuned_model.top_k' (TYPE_INT32), "x"`);
  int fields (int32 and int64) accept numbers and numeric strings, as proto3 JSON allows.
* Enums are accepted by name or by number (clients that send `$alt=json;enum-encoding=int`
  send numbers) and come out as names.
* The body may carry trailing commas (the tutorial's own curl body does), which Google's
  parser tolerates and `json.loads` does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from standins.emulator.core.errors import ApiError, invalid_argument

TYPE_NAMES = {
    "string": "TYPE_STRING",
    "int32": "TYPE_INT32",
    "int64": "TYPE_INT64",
    "float": "TYPE_FLOAT",
    "double": "TYPE_DOUBLE",
    "bool": "TYPE_BOOL",
    "enum": "TYPE_ENUM",
}
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


@dataclass(frozen=True)
class Enum:
    """A proto enum: value names and their numbers."""

    type_name: str
    values: Mapping[str, int]
    package: str

    @property
    def type_url(self) -> str:
        return f"type.googleapis.com/{self.package}.{self.type_name}"

    def name_of(self, value: Any) -> str | None:
        if isinstance(value, str) and value in self.values:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            for name, number in self.values.items():
                if number == value:
                    return name
        return None


@dataclass(frozen=True)
class F:
    """One proto field: a scalar kind (`string`, `int64`, `enum` with `enum`, `map` of strings), a
    nested message, or `any`, which skips checks (output-only or opaque fields)."""

    kind: str
    message: Msg | None = None
    repeated: bool = False
    enum: Enum | None = None


@dataclass(frozen=True)
class Msg:
    """A proto message: its name, package (for `type.googleapis.com/...` URLs) and fields."""

    type_name: str
    fields: dict[str, F] = field(default_factory=dict)
    package: str = "google.ai.generativelanguage.v1beta"

    @property
    def type_url(self) -> str:
        return f"type.googleapis.com/{self.package}.{self.type_name}"


ANY = F("any")


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def load_json(raw: bytes) -> Any:
    """Parse a request body; an empty body is `{}`. Trailing commas are tolerated."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid_argument("Invalid JSON payload received. Invalid UTF-8 in request body.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return json.loads(_strip_trailing_commas(text))
    except json.JSONDecodeError as exc:
        raise invalid_argument(
            f"Invalid JSON payload received. Unexpected token.\n{_excerpt(text, exc.pos)}"
        ) from exc


def _strip_trailing_commas(text: str) -> str:
    """Drop commas that directly precede `}` or `]`, outside string literals."""
    out: list[str] = []
    chunk_start = 0
    in_string = False
    escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                out.append(text[chunk_start : i + 1])
                chunk_start = i + 1
        elif ch == '"':
            out.append(_TRAILING_COMMA.sub(r"\1", text[chunk_start:i]))
            chunk_start = i
            in_string = True
    tail = text[chunk_start:]
    out.append(tail if in_string else _TRAILING_COMMA.sub(r"\1", tail))
    return "".join(out)


def _excerpt(text: str, pos: int) -> str:
    start = max(0, pos - 20)
    return text[start : pos + 20].replace("\n", " ")


def _unknown_name(key: str, path: str) -> ApiError:
    where = f" at '{path}'" if path else ""
    message = f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.'
    return invalid_argument(message, field=path or key)


def _invalid_value(path: str, type_name: str, value: Any) -> ApiError:
    shown = json.dumps(value, ensure_ascii=False)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return invalid_argument(f"Invalid value at '{path}' ({type_name}), {shown}", field=path)


def parse_message(data: Any, msg: Msg, path: str) -> dict[str, Any]:
    """Check `data` against `msg`; return it keyed by snake_case names (nulls dropped)."""
    if not isinstance(data, dict):
        raise _invalid_value(path, msg.type_url, data)
    by_name: dict[str, str] = {}
    for name in msg.fields:
        by_name[name] = name
        by_name[camel(name)] = name
    out: dict[str, Any] = {}
    for key, value in data.items():
        field_name = by_name.get(key)
        if field_name is None:
            raise _unknown_name(key, path)
        if value is None:
            continue
        child = f"{path}.{field_name}" if path else field_name
        out[field_name] = _parse_field(value, msg.fields[field_name], child)
    return out


def _parse_field(value: Any, spec: F, path: str) -> Any:
    if spec.kind == "any":
        return value
    if spec.repeated:
        if not isinstance(value, list):
            type_name = spec.message.type_url if spec.message else TYPE_NAMES.get(spec.kind, spec.kind)
            raise _invalid_value(path, type_name, value)
        single = F(spec.kind, spec.message)
        return [_parse_field(item, single, f"{path}[{i}]") for i, item in enumerate(value)]
    if spec.message is not None:
        return parse_message(value, spec.message, path)
    if spec.enum is not None:
        name = spec.enum.name_of(value)
        if name is None:
            raise _invalid_value(path, spec.enum.type_url, value)
        return name
    if spec.kind == "map":
        if not isinstance(value, dict):
            raise _invalid_value(path, "map<string, string>", value)
        return {str(k): parse_scalar(v, "string", f"{path}[{k}]") for k, v in value.items()}
    return parse_scalar(value, spec.kind, path)


def parse_scalar(value: Any, kind: str, path: str) -> Any:
    type_name = TYPE_NAMES.get(kind, kind)
    if kind == "string":
        if isinstance(value, str):
            return value
    elif kind in ("int32", "int64"):
        if isinstance(value, bool):
            raise _invalid_value(path, type_name, value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
    elif kind in ("float", "double"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif kind == "bool" and isinstance(value, bool):
        return value
    raise _invalid_value(path, type_name, value)


SYSTEM_QUERY_PARAMS = frozenset(
    {
        "key",
        "alt",
        "$alt",
        "prettyPrint",
        "fields",
        "$fields",
        "quotaUser",
        "access_token",
        "callback",
        "$.xgafv",
        "upload_protocol",
        "uploadType",
    }
)


def parse_query(params: Mapping[str, str], allowed: Mapping[str, str]) -> dict[str, Any]:
    """Bind query parameters (snake or camel) to request fields; `allowed` maps snake name -> kind."""
    by_name = {}
    for name in allowed:
        by_name[name] = name
        by_name[camel(name)] = name
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in SYSTEM_QUERY_PARAMS:
            continue
        field_name = by_name.get(key)
        if field_name is None:
            raise invalid_argument(
                f'Invalid JSON payload received. Unknown name "{key}": Cannot bind query parameter. '
                f"Field '{key}' could not be found in request message.",
                field=key,
            )
        kind = allowed[field_name]
        out[field_name] = value if kind == "string" else parse_scalar(value, kind, field_name)
    return out


def ensure_object(data: Any, type_url: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(
            400,
            f"Invalid JSON payload received. Expected an object for {type_url}.",
            status="INVALID_ARGUMENT",
        )
    return data
