"""Tuned models against their base models: which base model that is."""

from __future__ import annotations

from bot.backends.backend import TuningBackend
from bot.domain.errors import BackendError
from bot.domain.types import JobState
from bot.services.errors import NoBaseModel, NoTunedModel, TunedModelLookupFailed, TuningNotDone
from bot.storage.store import Store


async def base_model_of(store: Store, backend: TuningBackend, model_name: str) -> str:
    """The base model a tuned model was made from: tunebot's record, else the service's.
    Refuses (TuningNotDone) a model whose tunebot job has not succeeded."""
    job = await store.run(store.jobs.for_model, model_name)
    if job is not None and job.state != JobState.SUCCEEDED.value:
        raise TuningNotDone(model_name, job.state)
    if job is not None and job.base_model:
        return job.base_model
    try:
        summary = await backend.get_model(model_name)
    except BackendError as exc:
        if exc.not_found:
            raise NoTunedModel(model_name) from exc
        raise TunedModelLookupFailed(model_name, str(exc)) from exc
    if not summary.base_model:
        raise NoBaseModel(model_name)
    return summary.base_model
