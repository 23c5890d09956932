"""google.longrunning.Operation JSON, and proto3 JSON's rule of leaving default values out."""

from __future__ import annotations

from typing import Any


def done_operation(
    name: str, *, metadata: dict[str, Any] | None = None, response: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A finished operation: `response` (with its `@type`) and `metadata` as the service sent them."""
    out: dict[str, Any] = {"name": name}
    if metadata is not None:
        out["metadata"] = metadata
    out["done"] = True
    if response is not None:
        out["response"] = response
    return out


def without_defaults(value: Any) -> Any:
    """Drop what proto3 JSON leaves out: "" strings, empty lists and maps, None (recursively).

    Numbers and booleans stay: the emulator writes only those it means to send.
    """
    if isinstance(value, dict):
        pruned = {k: without_defaults(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in ("", None, [], {}) or k == "@type"}
    if isinstance(value, list):
        return [without_defaults(v) for v in value]
    return value
