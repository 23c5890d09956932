"""tuningJobs: supervised tuning of a Gemini base model on a JSONL file in Cloud Storage.

A job is JOB_STATE_PENDING for one step, JOB_STATE_RUNNING for `tuningStepCount` steps, then
JOB_STATE_SUCCEEDED with a tuned model deployed to an endpoint (or JOB_STATE_FAILED half-way
when its display name is in the fault config's `fail_models`). A cancelled job is
JOB_STATE_CANCELLED at once, with `endTime` and the error {code 1, "CANCELLED"}; it keeps the
checkpoints of the epochs it finished (each on its own endpoint, under `tunedModel`, which then
has a model and no endpoint of its own). Nothing is
trained. The training and validation files are read and checked as Vertex does
(`datasets`): a missing file is refused at create, a bad line fails the job when its dataset
step ends. The create body is parsed as proto JSON (`schema.tuning_job`): camelCase or
snake_case names, enums by name or number, int64 as string or number, unknown names refused.

Continued tuning: a create naming `preTunedModel` {tunedModelName, checkpointId} instead of
`baseModel` tunes further from a succeeded job's model (or one of its checkpoints) and has its
base model; the new model answers from its own examples and everything its parents learnt, so
it does measurably better than its parent on data drawn from both. A parent that does not
exist, is not succeeded or lacks the checkpoint is refused with 400 INVALID_ARGUMENT.
"""

from __future__ import annotations

import math
import time
from typing import Any

from standins.emulator.core import generation, protojson
from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import ApiError, invalid_argument, not_found
from standins.emulator.core.lro import without_defaults
from standins.emulator.vertex import datasets, filters, schema
from standins.emulator.vertex.datasets import DatasetRead
from standins.emulator.vertex.routing import Routes, VertexCall
from standins.emulator.vertex.service import VertexService
from standins.emulator.vertex.state import EXAMPLES_PER_STEP, FIRST_JOB_ID, VertexJob

ADAPTER_SIZES = {
    "gemini-3.5-flash": (1, 2, 4, 8, 16),
    "gemini-3.1-flash-lite": (1, 2, 4, 8, 16),
    "gemini-2.5-flash": (1, 2, 4, 8, 16),
    "gemini-2.5-flash-lite": (1, 2, 4, 8, 16),
    "gemini-2.5-pro": (1, 2, 4, 8),
    "gemini-2.0-flash-001": (1, 2, 4, 8),
    "gemini-2.0-flash-lite-001": (1, 2, 4, 8),
}
ADAPTER_ENUM = {
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
OTHER_METHODS = (
    "preference_optimization_spec",
    "distillation_spec",
    "reinforcement_tuning_spec",
    "partner_model_tuning_spec",
    "veo_tuning_spec",
    "veo_lora_tuning_spec",
)
CANCELLED_ERROR = {"code": 1, "message": "CANCELLED"}
FAILED_ERROR = {"code": 3, "message": "Tuning failed: the training data could not be processed."}
MAX_EPOCHS = 100
GEMINI_3_TUNING_REGIONS = ("us-central1", "europe-west4")
ENDPOINT_FAILED_ERROR = {
    "code": 13,
    "message": (
        "Failed to create endpoint. Tuned model is uploaded and can be accessed through Model Registry."
    ),
}


def serving_parent(parent: str, base_model: str) -> str:
    """Gemini 3.x tuned models are served only from the `us`/`eu` multi-region."""
    if not base_model.startswith("gemini-3"):
        return parent
    project, location = parent.split("/")[1], parent.split("/")[3]
    return f"projects/{project}/locations/{'eu' if location.startswith('europe') else 'us'}"


LIST_QUERY = {"filter": "string", "page_size": "int32", "page_token": "string"}


def create(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        svc.create_requests.append(dict(call.body))
    protojson.parse_query(call.query, {})
    body = protojson.parse_message(call.body, schema.tuning_job(call.version), "tuning_job")
    for method in OTHER_METHODS:
        if method in body:
            raise invalid_argument(
                f"{method} is not emulated: the emulator runs supervised tuning only.", field=method
            )
    parent_job: VertexJob | None = None
    pre = body.get("pre_tuned_model")
    if pre is not None:
        if body.get("base_model"):
            raise invalid_argument(
                "Only one of base_model and pre_tuned_model (oneof source_model) can be set.",
                field="pre_tuned_model",
            )
        with svc.lock:
            parent_job = pre_tuned_parent(svc, call.parent, pre)
        base = parent_job.base_model
    else:
        base = body.get("base_model", "")
    if base.startswith("publishers/google/models/"):
        base = base.rsplit("/", 1)[1]
    if base not in ADAPTER_SIZES:
        raise invalid_argument(
            f"Base model {base or '(none)'} is not supported for supervised tuning. Supported: "
            + ", ".join(ADAPTER_SIZES),
            field="base_model",
        )
    location = call.parent.split("/")[3]
    if base.startswith("gemini-3") and location not in GEMINI_3_TUNING_REGIONS:
        raise invalid_argument(
            f"Tuning {base} is supported only in {' and '.join(GEMINI_3_TUNING_REGIONS)}, not in {location}.",
            field="base_model",
        )
    spec = body.get("supervised_tuning_spec") or {}
    uri = spec.get("training_dataset_uri", "")
    if not uri:
        raise invalid_argument(
            "supervised_tuning_spec.training_dataset_uri is required.",
            field="supervised_tuning_spec.training_dataset_uri",
        )
    hyper = spec.get("hyper_parameters") or {}
    adapter = hyper.get("adapter_size")
    if adapter == "ADAPTER_SIZE_UNSPECIFIED":
        adapter = None
    check_hyperparameters(base, hyper)
    training = read_dataset(svc, uri)
    examples = training.examples
    chosen = not hyper.get("epoch_count")  # proto3: 0 is unset
    epochs = chosen_epochs(len(examples)) if chosen else hyper["epoch_count"]
    multiplier = hyper.get("learning_rate_multiplier") or 1.0
    validation_uri = spec.get("validation_dataset_uri") or None
    validation = read_dataset(svc, validation_uri, validation=True) if validation_uri else None
    dataset_error = training.error or (validation.error if validation is not None else None)
    display = body.get("tuned_model_display_name", "")
    with svc.lock:
        quota_wait = svc.quota_wait(call.parent)
        svc.state.seq += 1
        steps = max(1, math.ceil(len(examples) / EXAMPLES_PER_STEP)) * epochs
        job = VertexJob(
            id=FIRST_JOB_ID + svc.state.seq * 10,
            parent=call.parent,
            base_model=base,
            display_name=display,
            description=body.get("description", ""),
            dataset_uri=uri,
            epochs=epochs,
            epochs_chosen=chosen,
            multiplier=multiplier,
            adapter_size=adapter,
            examples=examples,
            create_time=svc.now(),
            step_seconds=svc.step_seconds,
            total_steps=steps,
            fail=svc.should_fail(display),
            labels=dict(body.get("labels") or {}),
            learning_rate=hyper.get("learning_rate"),
            batch_size=hyper.get("batch_size"),
            validation_uri=validation_uri,
            validation_examples=validation.examples if validation is not None else [],
            export_last_checkpoint_only=bool(spec.get("export_last_checkpoint_only")),
            serving_parent=serving_parent(call.parent, base),
            quota_wait=quota_wait,
            endpoint_failure=svc.endpoint_fails(display),
            billable_tokens=training.total_tokens,
            user_turns=training.user_turns,
            input_tokens=[
                t - generation.count_tokens(e.output) for t, e in zip(training.tokens, examples, strict=True)
            ],
            output_tokens=[generation.count_tokens(e.output) for e in examples],
            dataset_error=dataset_error,
        )
        if parent_job is not None and pre is not None:
            job.pre_tuned_model = str(pre["tuned_model_name"])
            job.pre_tuned_checkpoint = pre.get("checkpoint_id") or None
            job.inherited_examples = parent_job.learnt
        if job.endpoint_failure or dataset_error:
            job.fail = True
        svc.state.jobs[job.id] = job
        svc.add_checkpoints(job)
        return job_json(svc, job, call.version)


def pre_tuned_parent(svc: VertexService, parent: str, pre: dict[str, Any]) -> VertexJob:
    """The succeeded job whose tuned model `preTunedModel.tunedModelName` names
    (`projects/P/locations/L/models/M`, optionally `@version`), with the checkpoint
    `checkpointId` if one is named; else 400 INVALID_ARGUMENT, as Vertex answers."""
    field = "pre_tuned_model.tuned_model_name"
    wanted = str(pre.get("tuned_model_name") or "")
    if not wanted:
        raise invalid_argument("pre_tuned_model.tuned_model_name is required.", field=field)
    name = wanted.split("@", 1)[0]
    prefix, _, model_id = name.rpartition("/models/")
    try:
        job = svc.state.jobs.get(int(model_id) - 2)
    except ValueError:
        job = None
    project = parent.split("/")[1]
    if job is None or job.model != name or job.model_deleted or prefix.split("/")[1:2] != [project]:
        raise invalid_argument(f"The pre-tuned model {wanted} does not exist.", field=field)
    state = job.state(svc.now())
    checkpoint = pre.get("checkpoint_id")
    # A cancelled job's model holds the checkpoints of the epochs it finished: tuning may go on
    # from one of them (it has no final model to go on from).
    cancelled_with_checkpoint = state == "JOB_STATE_CANCELLED" and bool(checkpoint) and job.kept_epochs()
    if state != "JOB_STATE_SUCCEEDED" and not cancelled_with_checkpoint:
        raise invalid_argument(
            f"The pre-tuned model {wanted} is not ready for tuning: its tuning job {job.name} is in "
            f"state {state}.",
            field=field,
        )
    if checkpoint:
        kept = job.kept_epochs() if state == "JOB_STATE_CANCELLED" else None
        known = [c["checkpointId"] for c in checkpoints_json(job, kept)]
        if checkpoint not in known:
            raise invalid_argument(
                f"Checkpoint {checkpoint} does not exist in the pre-tuned model {wanted}. "
                f"Its checkpoints: {', '.join(known)}.",
                field="pre_tuned_model.checkpoint_id",
            )
    return job


def check_hyperparameters(base: str, hyper: dict[str, Any]) -> None:
    """Vertex's checks of `hyperParameters` for a Gemini base model (400 INVALID_ARGUMENT)."""
    field = "supervised_tuning_spec.hyper_parameters"
    adapter = hyper.get("adapter_size")
    if adapter not in (None, "ADAPTER_SIZE_UNSPECIFIED") and ADAPTER_ENUM[adapter] not in ADAPTER_SIZES[base]:
        raise invalid_argument(
            f"The adapter size is not supported for this base model. Adapter size {adapter} is not "
            f"supported for base model {base}; supported sizes: "
            + ", ".join(str(size) for size in ADAPTER_SIZES[base])
            + ".",
            field=f"{field}.adapter_size",
        )
    epochs = hyper.get("epoch_count") or 0
    if epochs and not 1 <= epochs <= MAX_EPOCHS:
        raise invalid_argument(
            f"epoch_count must be between 1 and {MAX_EPOCHS}, got {epochs}.", field=f"{field}.epoch_count"
        )
    multiplier = hyper.get("learning_rate_multiplier")
    if multiplier is not None and not (math.isfinite(multiplier) and multiplier >= 0):
        raise invalid_argument(
            f"learning_rate_multiplier must be positive, got {multiplier:g}.",
            field=f"{field}.learning_rate_multiplier",
        )
    for name in ("learning_rate", "batch_size"):
        if hyper.get(name) is not None:
            raise invalid_argument(
                f"{name} is only supported for open models; Gemini model {base} does not accept it. "
                "Set learning_rate_multiplier instead.",
                field=f"{field}.{name}",
            )


def chosen_epochs(examples: int) -> int:
    """The epoch count the emulator picks when none is sent ("automatically adjusts the
    default value to your training dataset size"): 3 up to 1,000 examples, fewer above."""
    return max(1, min(3, math.ceil(3000 / max(examples, 1))))


def read_dataset(svc: VertexService, uri: str, *, validation: bool = False) -> DatasetRead:
    """The file at `uri`, read and checked line by line (`datasets.check_file`); a missing
    file is refused at create (400), a bad line fails the job (`DatasetRead.error`)."""
    bucket, _, name = uri.removeprefix("gs://").partition("/")
    data = svc.object(bucket, name) if uri.startswith("gs://") else None
    field = "validation_dataset_uri" if validation else "training_dataset_uri"
    if data is None:
        raise invalid_argument(
            f"{'Validation' if validation else 'Training'} dataset {uri} does not exist or is not readable.",
            field=f"supervised_tuning_spec.{field}",
        )
    return datasets.check_file(data, uri, validation=validation)


def data_stats(job: VertexJob, counted: bool = True) -> dict[str, Any]:
    """`tuningDataStats.supervisedTuningDataStats`, from the file the job read. The billable
    token count comes once Vertex has processed the dataset (`counted`: the job runs); until
    then a client has only its own estimate of the cost."""
    stats: dict[str, Any] = {
        "tuningDatasetExampleCount": str(len(job.examples)),
        "tuningStepCount": str(job.total_steps),
    }
    if counted:
        stats["totalBillableTokenCount"] = str(job.billable_tokens)
    if job.user_turns:
        stats["userMessagePerExampleDistribution"] = datasets.distribution(job.user_turns)
    if job.input_tokens:
        stats["userInputTokenDistribution"] = datasets.distribution(job.input_tokens)
        stats["userOutputTokenDistribution"] = datasets.distribution(job.output_tokens)
    return stats


def find_job(svc: VertexService, parent: str, job_id: str) -> VertexJob:
    try:
        job = svc.state.jobs.get(int(job_id))
    except ValueError:
        job = None
    if job is None or job.parent != parent:
        raise not_found(f"TuningJob {parent}/tuningJobs/{job_id} is not found.")
    return job


def get(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    with svc.lock:
        return job_json(svc, find_job(svc, call.parent, call.resource_id), call.version)


def list_jobs(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    query = protojson.parse_query(call.query, LIST_QUERY)
    size = min(max(query.get("page_size") or 100, 1), 1000)
    wanted = filters.parse(query.get("filter"))
    try:
        start = int(query.get("page_token") or 0)
    except ValueError as exc:
        raise invalid_argument("Invalid page token.", field="page_token") from exc
    with svc.lock:
        jobs = sorted(
            (
                j
                for j in svc.state.jobs.values()
                if j.parent == call.parent and filters.matches(wanted, j.labels, {})
            ),
            key=lambda j: -j.id,
        )
        page = jobs[start : start + size]
        result: dict[str, Any] = {"tuningJobs": [job_json(svc, j, call.version) for j in page]}
        if start + size < len(jobs):
            result["nextPageToken"] = str(start + size)
        return result


def cancel(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    protojson.parse_query(call.query, {})
    protojson.parse_message(call.body, schema.cancel_request(call.version), "")
    with svc.lock:
        job = find_job(svc, call.parent, call.resource_id)
        state = job.state(svc.now())
        if state in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED"):
            raise ApiError(
                400,
                f"Cannot cancel tuning job {job.name} in state {state}.",
                status="FAILED_PRECONDITION",
            )
        if job.cancelled_at is None:
            job.cancelled_at = svc.now()
        return {}


def job_json(svc: VertexService, job: VertexJob, version: str = "v1") -> dict[str, Any]:
    now = svc.now()
    state = job.state(now)
    hyper: dict[str, Any] = {"learningRateMultiplier": job.multiplier}
    if not job.epochs_chosen or now >= job.tuning_at:
        hyper["epochCount"] = str(job.epochs)  # a chosen count appears once the data is read
    if job.learning_rate is not None:
        hyper["learningRate"] = job.learning_rate
    if job.adapter_size:
        hyper["adapterSize"] = job.adapter_size
    if job.batch_size is not None:
        hyper["batchSize"] = str(job.batch_size)
    spec: dict[str, Any] = {"trainingDatasetUri": job.dataset_uri, "hyperParameters": hyper}
    if job.validation_uri:
        spec["validationDatasetUri"] = job.validation_uri
    if job.export_last_checkpoint_only:
        spec["exportLastCheckpointOnly"] = True
    data: dict[str, Any] = {
        "name": job.name,
        "tunedModelDisplayName": job.display_name,
        "description": job.description,
        # `baseModel` and `preTunedModel` are one oneof: a continued job names its base model
        # in `preTunedModel.baseModel` (output only).
        "baseModel": job.base_model if job.pre_tuned_model is None else "",
        "supervisedTuningSpec": spec,
        "state": state,
        "createTime": rfc3339(job.create_time),
        "updateTime": rfc3339(job.update_time(now)),
        "tuningDataStats": {"supervisedTuningDataStats": data_stats(job, counted=now >= job.running_at)},
        "labels": dict(job.labels),
    }
    if job.pre_tuned_model is not None:
        data["preTunedModel"] = {"tunedModelName": job.pre_tuned_model, "baseModel": job.base_model}
        if job.pre_tuned_checkpoint:
            data["preTunedModel"]["checkpointId"] = job.pre_tuned_checkpoint
    started = job.cancelled_at if job.cancelled_at is not None else now
    if started >= job.running_at:
        data["startTime"] = rfc3339(job.running_at)
    if state in ("JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"):
        data["endTime"] = rfc3339(job.end_time())
    if started >= job.running_at:
        data["experiment"] = experiment_name(job)
    if version == "v1beta1":  # the SDK-only progress fields
        data["tuningJobState"] = job.sub_state(now)
        done_epochs = min(job.epochs, job.step_at(now) // job.steps_per_epoch)
        if started >= job.running_at:
            data["tuningJobMetadata"] = {"completedEpochCount": str(done_epochs)}
    if state == "JOB_STATE_SUCCEEDED":
        data["tunedModel"] = {
            "model": f"{job.model}@1",
            "endpoint": job.endpoint,
            "checkpoints": checkpoints_json(job),
        }
    elif state == "JOB_STATE_FAILED" and job.endpoint_failure:
        data["tunedModel"] = {"model": f"{job.model}@1"}
        data["error"] = dict(ENDPOINT_FAILED_ERROR)
    elif state == "JOB_STATE_FAILED" and job.dataset_error:
        data["error"] = {"code": 3, "message": job.dataset_error}
    elif state == "JOB_STATE_FAILED":
        data["error"] = dict(FAILED_ERROR)
    elif state == "JOB_STATE_CANCELLED":
        data["error"] = dict(CANCELLED_ERROR)
        kept = job.kept_epochs()
        if kept:
            data["tunedModel"] = {"model": f"{job.model}@1", "checkpoints": checkpoints_json(job, kept)}
    return without_defaults(data)


ROUTES: Routes = {
    ("POST", "tuningJobs"): ("tuningJobs.create", create),
    ("GET", "tuningJobs"): ("tuningJobs.list", list_jobs),
    ("GET", "tuningJobs/*"): ("tuningJobs.get", get),
    ("POST", "tuningJobs/*:cancel"): ("tuningJobs.cancel", cancel),
}


def experiment_name(job: VertexJob) -> str:
    """The job's Vertex Experiment (a Metadata Context), set once the job runs."""
    return f"{job.parent}/metadataStores/default/contexts/{experiment_id(job)}"


def experiment_id(job: VertexJob) -> str:
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(job.create_time))
    return f"tuning-experiment-{stamp}{job.id % 1_000_000:06d}"


def checkpoints_json(job: VertexJob, epochs: list[int] | None = None) -> list[dict[str, Any]]:
    """One checkpoint per epoch (only the last with exportLastCheckpointOnly); the last shares
    the job's endpoint, the others have their own. `epochs`: only these (a cancelled job's)."""
    out = []
    for epoch in epochs if epochs is not None else range(1, job.epochs + 1):
        endpoint = job.checkpoint_endpoints.get(epoch)
        if epoch < job.epochs and endpoint is None:
            continue
        step = job.total_steps if epoch == job.epochs else epoch * job.steps_per_epoch
        name = job.endpoint if endpoint is None else f"{job.serving_parent}/endpoints/{endpoint.id}"
        out.append({"checkpointId": str(epoch), "epoch": str(epoch), "step": str(step), "endpoint": name})
    return out
