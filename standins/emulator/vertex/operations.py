"""operations: the long-running operations of undeployModel and the deletes.

Every emulated operation is done when it is returned. Like Vertex, it answers `metadata`
(UndeployModelOperationMetadata or DeleteOperationMetadata, each holding a
GenericOperationMetadata with createTime/updateTime) and `response` (UndeployModelResponse or
google.protobuf.Empty), with `@type` URLs naming the API version the caller used.
"""

from __future__ import annotations

from typing import Any

from standins.emulator.core import protojson
from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import not_found
from standins.emulator.core.lro import done_operation
from standins.emulator.vertex import schema
from standins.emulator.vertex.routing import Routes, VertexCall
from standins.emulator.vertex.service import VertexService
from standins.emulator.vertex.state import VertexOperation


def finish(
    svc: VertexService, parent: str, operation_id: int, metadata_type: str, response_type: str | None
) -> VertexOperation:
    """Record a finished operation (to be answered now and by operations.get)."""
    with svc.lock:
        operation = VertexOperation(operation_id, parent, metadata_type, response_type, svc.now())
        svc.state.operations[operation_id] = operation
        return operation


def operation_json(operation: VertexOperation, version: str) -> dict[str, Any]:
    stamp = rfc3339(operation.create_time)
    metadata = {
        "@type": schema.type_url(version, operation.metadata_type),
        "genericMetadata": {"createTime": stamp, "updateTime": stamp},
    }
    if operation.response_type is None:
        response: dict[str, Any] = {"@type": schema.EMPTY_TYPE}
    else:
        response = {"@type": schema.type_url(version, operation.response_type)}
    return done_operation(operation.name, metadata=metadata, response=response)


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        try:
            operation = svc.state.operations.get(int(call.resource_id))
        except ValueError:
            operation = None
        if operation is None or operation.parent != call.parent:
            raise not_found(f"Operation {call.parent}/operations/{call.resource_id} is not found.")
        return operation_json(operation, call.version)


ROUTES: Routes = {
    ("GET", "operations/*"): ("operations.get", get),
}
