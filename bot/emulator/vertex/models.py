"""models: the Model a succeeded tuning job registers (`{parent}/models/{id}@1`)."""

from __future__ import annotations

from typing import Any

from bot.emulator.core.errors import ApiError, not_found
from bot.emulator.core.lro import done_operation
from bot.emulator.vertex.routing import Routes, VertexCall
from bot.emulator.vertex.service import VertexService


def delete(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = svc.ready_job(call.parent, call.resource_id.split("@", 1)[0], 2, "Model")
        if job.model_deleted:
            raise not_found(f"Model {job.model} is not found.")
        if job.endpoint_deployed and not job.endpoint_deleted:
            raise ApiError(
                400, f"Model {job.model} is deployed to {job.endpoint}.", status="FAILED_PRECONDITION"
            )
        job.model_deleted = True
        return done_operation(f"{call.parent}/operations/{job.id + 7}")


ROUTES: Routes = {
    ("DELETE", "models/*"): ("models.delete", delete),
}
