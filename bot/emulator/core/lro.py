"""google.longrunning.Operation helpers."""

from __future__ import annotations

from typing import Any


def done_operation(name: str) -> dict[str, Any]:
    return {"name": name, "done": True}
