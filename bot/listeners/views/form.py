"""Reading a submitted modal: its fields' values and the metadata it was opened with."""

from __future__ import annotations

import json
from typing import Any


def view_values(view: dict[str, Any]) -> dict[str, Any]:
    """`{block_id: value}` from a submitted view's state (one element per block)."""
    values: dict[str, Any] = {}
    for block_id, elements in (view.get("state", {}).get("values") or {}).items():
        for element in elements.values():
            kind = element.get("type")
            if kind == "file_input":
                values[block_id] = element.get("files") or []
            elif kind in ("checkboxes", "multi_static_select"):
                values[block_id] = [str(o.get("value")) for o in element.get("selected_options") or []]
            elif kind == "static_select":
                selected = element.get("selected_option") or {}
                values[block_id] = selected.get("value")
            else:
                values[block_id] = (element.get("value") or "").strip() or None
    return values


def private_metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
