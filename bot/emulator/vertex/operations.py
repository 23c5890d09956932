"""operations: every emulated Vertex operation is done by the time it is returned."""

from __future__ import annotations

from typing import Any

from bot.emulator.core.lro import done_operation
from bot.emulator.vertex.routing import Routes, VertexCall
from bot.emulator.vertex.service import VertexService


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    return done_operation(f"{call.parent}/operations/{call.resource_id}")


ROUTES: Routes = {
    ("GET", "operations/*"): ("operations.get", get),
}
