"""Vertex AI supervised tuning (`tuningJobs`) as a TuningBackend.

tunebot's handle for a Vertex model is its tuning job's resource name
(`projects/P/locations/L/tuningJobs/123`): the tuned model and its endpoint only exist
once the job succeeds, so `generate` and `delete_model` look them up through the job.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from functools import partial
from typing import Any, TypeVar

from bot.backends.errors import backend_error, translated_errors
from bot.backends.vertex_metrics import MetricsTracker
from bot.backends.vertex_models import VertexModelCatalog
from bot.backends.vertex_progress import (
    MetricsSnapshot,
    checkpoints,
    job_state,
    loss_points,
    progress_from_job,
    sent_hyperparameters,
)
from bot.domain.errors import BackendError
from bot.domain.text import escape_truncated
from bot.domain.types import (
    BaseModelChoice,
    Conversation,
    GenerationSettings,
    JobProgress,
    JobState,
    LossCurves,
    ModelPage,
    ModelState,
    ModelSummary,
    StartedJob,
    TrainingExample,
    TuningRequest,
    contents_of,
    generation_config,
    json_generation_config,
    system_instruction_of,
)
from bot.gemini import new_tuned_model_id
from bot.google.errors import GoogleAPIError
from bot.vertex import SeriesPoint, TuningJob, VertexAPIError, VertexClient, VertexConnectionError
from bot.vertex.types import ADAPTER_SIZE_ENUM

T = TypeVar("T")
log = logging.getLogger(__name__)


MODEL_STATES = {
    JobState.QUEUED: ModelState.TUNING,
    JobState.RUNNING: ModelState.TUNING,
    JobState.SUCCEEDED: ModelState.READY,
    JobState.FAILED: ModelState.FAILED,
    JobState.CANCELLED: ModelState.FAILED,
}

UPLOAD_PREFIX = "tunebot/"  # objects tunebot uploads, and the only ones it deletes
_JOB_ID = re.compile(r"^[0-9]{1,30}$")


def vertex_record(example: TrainingExample) -> dict[str, object]:
    """One line of Vertex's supervised tuning JSONL: the system instruction (when the example
    has one), then every turn, user and model alternating."""
    record: dict[str, object] = {}
    if example.system:
        record["systemInstruction"] = {"role": "system", "parts": [{"text": example.system}]}
    record["contents"] = [{"role": turn.role, "parts": [{"text": turn.text}]} for turn in example.turns]
    return record


def vertex_jsonl(examples: Sequence[TrainingExample]) -> bytes:
    """Stored examples -> Vertex's supervised tuning JSONL, one example a line."""
    lines = [json.dumps(vertex_record(example), ensure_ascii=False) for example in examples]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def summary_from_job(job: TuningJob) -> ModelSummary:
    return ModelSummary(
        name=job.name,
        display_name=job.display_name or job.name.rsplit("/", 1)[-1],
        state=MODEL_STATES.get(job_state(job), ModelState.UNKNOWN),
        base_model=job.base_model,
        created_at=job.create_time,
        checkpoints=checkpoints(job),
    )


def plain_error(
    exc: VertexAPIError | VertexConnectionError,
    *,
    bucket: str,
    base_model: str | None,
    catalog: VertexModelCatalog | None = None,
) -> BackendError:
    """Vertex / Cloud Storage errors in plain words for Slack (Google's message kept at the end)."""
    return backend_error(
        exc, explain=partial(plain_words, bucket=bucket, base_model=base_model, catalog=catalog)
    )


def plain_words(
    exc: GoogleAPIError, *, bucket: str, base_model: str | None, catalog: VertexModelCatalog | None = None
) -> str:
    """A Vertex / Cloud Storage error answer in plain words (Google's message kept at the end)."""
    message = exc.message
    lowered = message.lower()
    storage = "storage" in lowered or "bucket" in lowered or "gs://" in lowered
    if (exc.code == 429 or exc.status == "RESOURCE_EXHAUSTED") and "tuning job" in lowered:
        message = (
            "Vertex AI quota exceeded: this project already runs as many tuning jobs as its "
            "“global concurrent tuning jobs” quota allows (1 by default; the quota is per project, "
            "shared by every region and model). The job was refused, not queued: start it again when "
            f"a running job ends, or ask for a higher quota. Google said: {exc.message}"
        )
    elif exc.code == 429 or exc.status == "RESOURCE_EXHAUSTED":
        message = (
            "Vertex AI quota exceeded (too many requests or concurrent tuning jobs in this project and "
            f"region); try again later or ask for a higher quota. Google said: {exc.message}"
        )
    elif exc.code == 403 and storage:
        message = (
            f"tunebot's service account may not write to gs://{bucket} (it needs "
            f"roles/storage.objectAdmin on that bucket). Google said: {exc.message}"
        )
    elif exc.code == 403:
        message = (
            "tunebot's service account lacks permission on Vertex AI (it needs roles/aiplatform.user "
            f"in the project). Google said: {exc.message}"
        )
    elif exc.code == 401:
        message = f"Google Cloud rejected tunebot's credentials. Google said: {exc.message}"
    elif exc.code == 400 and "adapter" in lowered:
        known = (catalog or VertexModelCatalog()).get(base_model or "")
        sizes = known.adapter_sizes if known else None
        supported = (
            f" {base_model} supports adapter sizes {', '.join(str(s) for s in sizes)}." if sizes else ""
        )
        message = (
            f"that adapter size is not supported for this base model.{supported} Google said: {exc.message}"
        )
    return message


class VertexBackend:
    """Tuning through Vertex AI supervised tuning; training data goes through a Cloud Storage bucket."""

    name = "vertex"
    supports_validation = True
    supports_continuing = True  # `preTunedModel`: tuning further from a tuned model or checkpoint
    supports_cancel = True
    options = frozenset({"epochs", "learning_rate_multiplier", "adapter_size", "export_last_checkpoint_only"})

    def __init__(
        self,
        client: VertexClient,
        *,
        bucket: str,
        adapter_size: int | None = None,
        catalog: VertexModelCatalog | None = None,
        export_last_checkpoint_only: bool = False,
        keep_files: bool = False,
        generation: GenerationSettings | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket.removeprefix("gs://").strip("/")
        self.adapter_size = adapter_size
        self.catalog = catalog or VertexModelCatalog()
        self.export_last_checkpoint_only = export_last_checkpoint_only
        self.keep_files = keep_files
        self.generation = generation or GenerationSettings()
        self.metrics = MetricsTracker(client)

    @property
    def base_models(self) -> tuple[BaseModelChoice, ...]:
        return self.catalog.choices

    @property
    def default_base_model(self) -> str:
        return self.catalog.default

    @property
    def default_judge_model(self) -> str:
        """The catalog's default base model (gemini-2.5-flash unless VERTEX_BASE_MODELS says
        otherwise): fast and cheap, and it answers to a response schema."""
        return self.catalog.default

    def start_refusal(self, base_model: str, adapter_size: int | None = None) -> str | None:
        """Why a job on `base_model` cannot start here (region, the configured adapter size
        when none is asked for), before any upload."""
        model = self.catalog.get(base_model)
        if model is None:
            return None
        if adapter_size is not None:
            return model.region_refusal(self.client.location)
        return model.region_refusal(self.client.location) or model.adapter_refusal(self.adapter_size)

    def adapter_sizes(self, base_model: str) -> tuple[int, ...] | None:
        model = self.catalog.get(base_model)
        return model.adapter_sizes if model is not None else None

    def max_example_tokens(self, base_model: str) -> int | None:
        """The catalog's tokens per example for `base_model` (VERTEX_BASE_MODELS overrides it)."""
        model = self.catalog.get(base_model)
        return model.max_example_tokens if model is not None else None

    def model_name(self, text: str) -> str:
        candidate = text.strip().strip("`<>").rstrip("/")
        if "tuningJobs/" in candidate:
            candidate = candidate.rsplit("tuningJobs/", 1)[1]
        candidate = candidate.split("/", 1)[0].split(":", 1)[0].split("?", 1)[0]
        if not _JOB_ID.match(candidate) and not _is_tunebot_id(candidate):
            raise ValueError(
                f"`{escape_truncated(candidate, 80)}` "
                "is not a Vertex AI tuning job (its number, such as `1234567890123456789`, "
                "or its full `projects/…/tuningJobs/…` name). `/tune list` shows the models."
            )
        return f"{self.client.parent}/tuningJobs/{candidate}"

    def new_model_id(self, display_name: str) -> str:
        return new_tuned_model_id(display_name, suffix_length=8)

    async def start(self, request: TuningRequest) -> StartedJob:
        """Upload the examples and create the job with Vertex's own hyperparameters: the
        epoch count (left out: Vertex picks one for the dataset size), the learning-rate
        multiplier and adapter size (left out: Vertex's defaults; the adapter size falls back
        to VERTEX_ADAPTER_SIZE) and exportLastCheckpointOnly (else
        VERTEX_EXPORT_LAST_CHECKPOINT_ONLY). `batch_size` and `learning_rate` are never sent:
        Vertex takes neither for Gemini models (`/tune start` refuses them)."""
        refusal = self.start_refusal(request.base_model, request.adapter_size)
        if refusal:
            raise BackendError(refusal, code=400, status="FAILED_PRECONDITION")
        adapter = request.adapter_size if request.adapter_size is not None else self.adapter_size
        export = (
            request.export_last_checkpoint_only
            if request.export_last_checkpoint_only is not None
            else self.export_last_checkpoint_only
        )
        object_id = request.model_id or self.new_model_id(request.display_name)
        validation_uri: str | None = request.validation_uri
        parent = await self._registry_model(request.pre_tuned_model) if request.pre_tuned_model else None
        async with self._errors(request.base_model):
            # A dataset read in place from Cloud Storage is handed over as its URI, uncopied.
            uri = request.training_uri or await self.client.upload(
                self.bucket,
                f"{UPLOAD_PREFIX}{object_id}.jsonl",
                vertex_jsonl(request.examples),
                "application/jsonl",
            )
            if validation_uri is None and request.validation_examples:
                validation_uri = await self.client.upload(
                    self.bucket,
                    f"{UPLOAD_PREFIX}{object_id}-validation.jsonl",
                    vertex_jsonl(request.validation_examples),
                    "application/jsonl",
                )
            job = await self.client.create_tuning_job(
                base_model=None if parent else request.base_model,
                pre_tuned_model=parent,
                pre_tuned_checkpoint=request.pre_tuned_checkpoint if parent else None,
                training_uri=uri,
                validation_uri=validation_uri,
                export_last_checkpoint_only=export,
                display_name=request.display_name,
                epoch_count=request.epoch_count,
                learning_rate_multiplier=request.learning_rate_multiplier,
                adapter_size=ADAPTER_SIZE_ENUM.get(adapter or 0),
                description=request.description,
                request_label=object_id,
            )
        return StartedJob(
            model_name=job.name,
            operation_name=job.name,
            total_steps=job.total_steps,
            validation_uri=validation_uri,
            hyperparameters=sent_hyperparameters(job),
        )

    async def _registry_model(self, model_name: str) -> str:
        """The Model Registry resource of the tuned model a job continues from (what
        `preTunedModel.tunedModelName` names): tunebot's handle is the parent's tuning job."""
        job = await self._call(lambda: self.client.get_tuning_job(model_name))
        if job.tuned_model is None or not job.tuned_model.model:
            state = job_state(job)
            raise BackendError(
                f"the model to continue from has no tuned model yet (its tuning job is {state.value})",
                code=400,
                status="FAILED_PRECONDITION",
            )
        return job.tuned_model.model

    async def find_started(self, request_id: str) -> StartedJob | None:
        """The tuning job a create labelled `request_id` made, if Vertex has it."""
        job = await self._call(lambda: self.client.find_tuning_job(request_id))
        if job is None:
            return None
        return StartedJob(
            model_name=job.name,
            operation_name=job.name,
            total_steps=job.total_steps,
            hyperparameters=sent_hyperparameters(job),
        )

    async def poll(self, operation_name: str) -> JobProgress:
        """The job (one call) and, once it has an experiment, one TensorBoard call (see
        `MetricsTracker`); metrics that cannot be read leave the progress from the job alone.

        Once the job has ended, that call reads its whole training and eval series instead
        (`final_progress`): the final losses are their last points, the ones the chart ends on."""
        job = await self._call(lambda: self.client.get_tuning_job(operation_name))
        if job.experiment and job_state(job).finished:
            try:
                return await self.final_progress(job)
            except BackendError as exc:
                log.warning("vertex: loss series of %s not read (%s)", job.name, exc)
        snapshot = None
        if job.experiment:
            try:
                snapshot = await self._call(lambda: self.metrics.poll(job.name, job.experiment or ""))
            except BackendError as exc:
                log.warning("vertex: metrics of %s not read (%s)", job.name, exc)
        return progress_from_job(job, snapshot)

    async def final_progress(self, job: TuningJob) -> JobProgress:
        """An ended job's progress with its complete loss series (`JobProgress.curves`): the
        shown training and eval loss are the series' last points."""
        train, evaluation = await self._call(lambda: self.metrics.curves(job.name, job.experiment or ""))
        curves = self._curves(job, train, evaluation)
        last = MetricsSnapshot(
            train_max_step=train[-1].step if train else None,
            eval_max_step=evaluation[-1].step if evaluation else None,
            train_loss=train[-1] if train else None,
            eval_loss=evaluation[-1] if evaluation else None,
        )
        progress = progress_from_job(job, last if train or evaluation else None)
        return replace(progress, checkpoints=curves.checkpoints, curves=curves)

    async def loss_curves(self, operation_name: str) -> LossCurves:
        """Training and eval loss points for the chart (read only when a chart is drawn)."""
        job = await self._call(lambda: self.client.get_tuning_job(operation_name))
        if not job.experiment:
            return LossCurves()
        train, evaluation = await self._call(lambda: self.metrics.curves(job.name, job.experiment or ""))
        return self._curves(job, train, evaluation)

    @staticmethod
    def _curves(job: TuningJob, train: list[SeriesPoint], evaluation: list[SeriesPoint]) -> LossCurves:
        total, epochs = job.total_steps, job.epoch_count
        return LossCurves(
            train=loss_points(train, total, epochs),
            eval=loss_points(evaluation, total, epochs),
            checkpoints=checkpoints(job, evaluation),
        )

    async def generate(
        self,
        model_name: str,
        prompt: str,
        *,
        checkpoint: str | None = None,
        conversation: Conversation | None = None,
    ) -> str:
        job = await self._call(lambda: self.client.get_tuning_job(model_name))
        endpoint = job.tuned_model.endpoint if job.tuned_model else None
        if checkpoint is not None:
            endpoint = self._checkpoint_endpoint(job, checkpoint)
        if not endpoint:
            state = job_state(job)
            if state.finished:
                raise BackendError(
                    f"this tuning job ended {state.value}; it has no model to answer", code=400
                )
            raise BackendError("this model is still tuning; try again when it is ready", code=400)
        contents = contents_of(prompt, conversation)
        system = system_instruction_of(conversation)
        config = generation_config(self.generation, job.base_model or None)
        return await self._call(
            lambda: self.client.generate_content(
                endpoint, contents, system_instruction=system, generation_config=config
            )
        )

    @staticmethod
    def _checkpoint_endpoint(job: TuningJob, checkpoint: str) -> str:
        refs = job.tuned_model.checkpoints if job.tuned_model else ()
        for ref in refs:
            if ref.checkpoint_id == checkpoint and ref.endpoint:
                return ref.endpoint
        known = ", ".join(f"{r.checkpoint_id} (epoch {r.epoch})" for r in refs if r.endpoint)
        raise BackendError(
            f"this model has no checkpoint {checkpoint}"
            + (f"; its checkpoints are {known}" if known else "; it has no checkpoints with an endpoint"),
            code=400,
        )

    async def generate_base(
        self, base_model: str, prompt: str, *, conversation: Conversation | None = None
    ) -> str:
        """`publishers/google/models/{base}:generateContent` in the configured location."""
        short = base_model.rsplit("/", 1)[-1]
        publisher = f"{self.client.parent}/publishers/google/models/{short}"
        contents = contents_of(prompt, conversation)
        system = system_instruction_of(conversation)
        config = generation_config(self.generation, None)
        return await self._call(
            lambda: self.client.generate_content(
                publisher, contents, system_instruction=system, generation_config=config
            )
        )

    async def generate_json(
        self, base_model: str, prompt: str, *, instructions: str, schema: Mapping[str, Any]
    ) -> str:
        """The publisher model asked for JSON (responseMimeType and responseSchema)."""
        short = base_model.rsplit("/", 1)[-1]
        publisher = f"{self.client.parent}/publishers/google/models/{short}"
        config = json_generation_config(schema)
        return await self._call(
            lambda: self.client.generate_content(
                publisher,
                prompt,
                system_instruction={"parts": [{"text": instructions}]},
                generation_config=config,
            )
        )

    async def list_models(self, *, page_size: int, page_token: str | None = None) -> ModelPage:
        page = await self._call(
            lambda: self.client.list_tuning_jobs(page_size=page_size, page_token=page_token)
        )
        return ModelPage([summary_from_job(j) for j in page.jobs], page.next_page_token)

    async def get_model(self, model_name: str) -> ModelSummary:
        return summary_from_job(await self._call(lambda: self.client.get_tuning_job(model_name)))

    async def delete_model(self, model_name: str) -> None:
        """Leave nothing billable behind: cancel a running job, undeploy and delete the main
        endpoint and every checkpoint endpoint, delete the tuned model (a failed job may have
        one too), and delete the training and validation files tunebot uploaded (unless
        `keep_files`). Raises a not-found BackendError when there was nothing left to delete."""
        job = await self._call(lambda: self.client.get_tuning_job(model_name))
        deleted = False
        if not job_state(job).finished:
            await self._call(lambda: self.client.cancel_tuning_job(job.name))
            deleted = True
            job = await self._call(lambda: self.client.get_tuning_job(model_name))
        ref = job.tuned_model
        endpoints = [ref.endpoint] if ref and ref.endpoint else []
        for checkpoint in ref.checkpoints if ref else ():
            if checkpoint.endpoint and checkpoint.endpoint not in endpoints:
                endpoints.append(checkpoint.endpoint)
        for endpoint in endpoints:
            deleted = await self._delete_endpoint(endpoint) or deleted
        if ref and ref.model:
            model = ref.model
            deleted = await self._ignoring_not_found(lambda: self.client.delete_model(model)) or deleted
        if not self.keep_files:
            for uri in self.uploaded_files(job):
                await self._ignoring_not_found(partial(self.client.delete_object, uri))
        self.metrics.forget(job.name)
        if not deleted:
            raise BackendError(
                "the tuned model no longer exists", code=404, status="NOT_FOUND", not_found=True
            )

    async def cancel(self, operation_name: str) -> None:
        """`tuningJobs.cancel`: the job ends CANCELLED and keeps the checkpoints (and their
        endpoints) of the epochs it finished; Vertex refuses (FAILED_PRECONDITION) a job that
        has already ended."""
        await self._call(lambda: self.client.cancel_tuning_job(operation_name))

    def uploaded_files(self, job: TuningJob) -> list[str]:
        """The job's training and validation files, if tunebot uploaded them (its bucket and prefix)."""
        prefix = f"gs://{self.bucket}/{UPLOAD_PREFIX}"
        return [uri for uri in (job.training_uri, job.validation_uri) if uri and uri.startswith(prefix)]

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _delete_endpoint(self, endpoint: str) -> bool:
        try:
            info = await self._call(lambda: self.client.get_endpoint(endpoint))
        except BackendError as exc:
            if exc.not_found:
                return False
            raise
        for deployed in info.get("deployedModels") or []:
            deployed_id = str(deployed.get("id") or "")
            if deployed_id:
                await self._ignoring_not_found(partial(self.client.undeploy_model, endpoint, deployed_id))
        return await self._ignoring_not_found(lambda: self.client.delete_endpoint(endpoint))

    async def _ignoring_not_found(self, request: Callable[[], Awaitable[None]]) -> bool:
        try:
            await self._call(request)
        except BackendError as exc:
            if exc.not_found:
                return False
            raise
        return True

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        async with self._errors(None):
            return await request()

    def _errors(self, base_model: str | None) -> AbstractAsyncContextManager[None]:
        return translated_errors(
            partial(plain_words, bucket=self.bucket, base_model=base_model, catalog=self.catalog)
        )


def _is_tunebot_id(text: str) -> bool:
    """The id tunebot picks before Vertex numbers the job (kept on a job row while it starts)."""
    return bool(re.fullmatch(r"[a-z][a-z0-9-]{0,38}[a-z0-9]", text))
