"""The tuning job's metrics, as Vertex AI keeps them: the job's `experiment` is a Vertex ML
Metadata Context whose `metadata.backing_tensorboard_resource` names a TensorBoard; the
TensorBoard experiment has the Context's id; its run holds the scalar time series the tuning
service writes, step by step as the job advances:

    /train_total_loss, /train_fraction_of_correct_next_step_preds, /train_num_predictions
    /eval_total_loss, /eval_fraction_of_correct_next_step_preds, /eval_num_predictions
        (the eval series only with a validation set, a point every half epoch)

Served:

    GET  metadataStores/{store}/contexts/{context}                               contexts.get
    GET  tensorboards/{tb}/experiments/{exp}/runs                                runs.list
    GET  tensorboards/{tb}/experiments/{exp}/runs/{run}/timeSeries               timeSeries.list
    GET  tensorboards/{tb}:batchRead?timeSeries=NAME&…  (≤ 1000 points a series, sampled, unordered)
    GET  …/timeSeries/{ts}:read?maxDataPoints=N           (≤ 10,000; default 1000, sampled)
    POST …/timeSeries/{ts}:exportTensorboardTimeSeries  {orderBy, pageSize, pageToken}

Points carry `step` as an int64 string, `wallTime` and `scalar.value`; series carry
`metadata.maxStep`. A series exists once it has a point.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import invalid_argument, not_found
from standins.emulator.core.lro import without_defaults
from standins.emulator.core.paging import decode_token, encode_token
from standins.emulator.vertex.routing import Routes, VertexCall
from standins.emulator.vertex.service import VertexService
from standins.emulator.vertex.state import VertexJob
from standins.emulator.vertex.tuning import experiment_id

TENSORBOARD_ID = "7205041920170000000"
RUN_ID = "tuning-run"
BATCH_READ_LIMIT = 1000
READ_LIMIT = 10_000
TRAIN_SERIES = ("/train_total_loss", "/train_fraction_of_correct_next_step_preds", "/train_num_predictions")
EVAL_SERIES = ("/eval_total_loss", "/eval_fraction_of_correct_next_step_preds", "/eval_num_predictions")


@dataclass(frozen=True)
class Series:
    job: VertexJob
    index: int  # 0-2 training, 3-5 eval

    @property
    def display_name(self) -> str:
        return (TRAIN_SERIES + EVAL_SERIES)[self.index]

    @property
    def id(self) -> str:
        return str(self.job.id + 11 + self.index)

    @property
    def name(self) -> str:
        return f"{run_name(self.job)}/timeSeries/{self.id}"

    @property
    def is_eval(self) -> bool:
        return self.index >= len(TRAIN_SERIES)

    def steps(self, now: float) -> list[int]:
        done = self.job.step_at(now)
        if not self.is_eval:
            return list(range(1, done + 1))
        every = max(1, self.job.steps_per_epoch // 2)
        return [s for s in range(every, done + 1, every)]

    def value(self, step: int) -> float:
        job = self.job
        progress = step / max(1, job.total_steps)
        wobble = 0.04 * math.sin(step * 1.7 + job.id % 7)
        loss = 0.12 + 2.3 * math.exp(-3.5 * progress) + wobble
        kind = self.index % 3
        if self.is_eval:
            loss += 0.06 + 0.05 * progress  # validation sits above training, and drifts up late
        if kind == 0:
            return round(loss, 6)
        if kind == 1:
            return round(max(0.0, min(1.0, 1.0 - loss / 2.6)), 6)
        return float(8 * max(1, len(job.examples) // max(1, job.total_steps // max(1, job.epochs))))

    def point(self, step: int) -> dict[str, Any]:
        wall = self.job.tuning_at + step * self.job.step_seconds
        return {"wallTime": rfc3339(wall), "step": str(step), "scalar": {"value": self.value(step)}}


def tensorboard_name(job: VertexJob) -> str:
    return f"{job.parent}/tensorboards/{TENSORBOARD_ID}"


def run_name(job: VertexJob) -> str:
    return f"{tensorboard_name(job)}/experiments/{experiment_id(job)}/runs/{RUN_ID}"


def _series_of(job: VertexJob) -> list[Series]:
    count = len(TRAIN_SERIES) + (len(EVAL_SERIES) if job.validation_examples else 0)
    return [Series(job, index) for index in range(count)]


def _running_job(svc: VertexService, parent: str, context_id: str) -> VertexJob:
    now = svc.now()
    for job in svc.state.jobs.values():
        started = job.cancelled_at if job.cancelled_at is not None else now
        if job.parent == parent and experiment_id(job) == context_id and started >= job.running_at:
            return job
    raise not_found(f"Context {parent}/metadataStores/default/contexts/{context_id} is not found.")


def _tensorboard_job(svc: VertexService, call: VertexCall) -> VertexJob:
    tensorboard, experiment = call.ids[0], call.ids[1]
    if tensorboard != TENSORBOARD_ID:
        raise not_found(f"Tensorboard {call.parent}/tensorboards/{tensorboard} is not found.")
    return _running_job(svc, call.parent, experiment)


def _series(svc: VertexService, call: VertexCall) -> Series:
    job = _tensorboard_job(svc, call)
    if call.ids[2] != RUN_ID:
        raise not_found(f"TensorboardRun {run_name(job).rsplit('/', 1)[0]}/{call.ids[2]} is not found.")
    for series in _series_of(job):
        if series.id == call.ids[3] and series.steps(svc.now()):
            return series
    raise not_found(f"TensorboardTimeSeries {run_name(job)}/timeSeries/{call.ids[3]} is not found.")


def get_context(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        if call.ids[0] != "default":
            raise not_found(f"MetadataStore {call.parent}/metadataStores/{call.ids[0]} is not found.")
        job = _running_job(svc, call.parent, call.ids[1])
        created = rfc3339(job.running_at)
        return without_defaults(
            {
                "name": f"{job.parent}/metadataStores/default/contexts/{experiment_id(job)}",
                "displayName": experiment_id(job),
                "etag": str(job.id),
                "createTime": created,
                "updateTime": created,
                "schemaTitle": "system.Experiment",
                "schemaVersion": "0.0.1",
                "metadata": {
                    "backing_tensorboard_resource": tensorboard_name(job),
                    "experiment_deleted": False,
                },
            }
        )


def list_runs(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = _tensorboard_job(svc, call)
        created = rfc3339(job.running_at)
        run = {"name": run_name(job), "displayName": RUN_ID, "createTime": created, "updateTime": created}
        return {"tensorboardRuns": [run]}


def list_time_series(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    with svc.lock:
        job = _tensorboard_job(svc, call)
        if call.ids[2] != RUN_ID:
            raise not_found(f"TensorboardRun {call.ids[2]} is not found.")
        now = svc.now()
        items = []
        for series in _series_of(job):
            steps = series.steps(now)
            if not steps:
                continue
            last = steps[-1]
            items.append(
                {
                    "name": series.name,
                    "displayName": series.display_name,
                    "valueType": "SCALAR",
                    "pluginName": "scalars",
                    "createTime": rfc3339(job.tuning_at + steps[0] * job.step_seconds),
                    "updateTime": rfc3339(job.tuning_at + last * job.step_seconds),
                    "metadata": {"maxStep": str(last), "maxWallTime": series.point(last)["wallTime"]},
                }
            )
        return {"tensorboardTimeSeries": items}


def _sampled(svc: VertexService, series: Series, limit: int) -> list[dict[str, Any]]:
    """At most `limit` points, picked at random when there are more, in no particular order."""
    steps = series.steps(svc.now())
    rng = random.Random(f"{series.name}:{len(steps)}")
    if len(steps) > limit:
        steps = rng.sample(steps, limit)
    rng.shuffle(steps)
    return [series.point(step) for step in steps]


def batch_read(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    names = call.query.getlist("timeSeries") if hasattr(call.query, "getlist") else []
    if not names:
        raise invalid_argument("time_series is required.", field="time_series")
    if len(names) > 20:
        raise invalid_argument("At most 20 time series can be read at once.", field="time_series")
    out = []
    with svc.lock:
        for name in names:
            parts = name.split("/")
            if len(parts) != 12 or "/".join(parts[:4]) != call.parent or parts[5] != call.ids[0]:
                raise invalid_argument(f"Invalid time series name {name}.", field="time_series")
            inner = VertexCall(call.version, "GET", call.parent, (parts[5], parts[7], parts[9], parts[11]))
            series = _series(svc, inner)
            out.append(
                {
                    "tensorboardTimeSeriesId": series.id,
                    "valueType": "SCALAR",
                    "values": _sampled(svc, series, BATCH_READ_LIMIT),
                }
            )
    return {"timeSeriesData": out}


def read(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    raw = call.query.get("maxDataPoints") or call.query.get("max_data_points") or "1000"
    try:
        limit = int(raw)
    except ValueError as exc:
        raise invalid_argument("max_data_points must be an integer.", field="max_data_points") from exc
    if limit > READ_LIMIT:
        raise invalid_argument(f"max_data_points must be at most {READ_LIMIT}.", field="max_data_points")
    with svc.lock:
        series = _series(svc, call)
        values = _sampled(svc, series, READ_LIMIT if limit <= 0 else limit)
        return {
            "timeSeriesData": {"tensorboardTimeSeriesId": series.id, "valueType": "SCALAR", "values": values}
        }


def export(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    order = str(call.body.get("orderBy") or call.body.get("order_by") or "").strip()
    if order not in ("", "step", "step desc", "wall_time", "wall_time desc"):
        raise invalid_argument(f"Unsupported order_by: {order}.", field="order_by")
    try:
        size = int(call.body.get("pageSize") or call.body.get("page_size") or 1000)
    except (TypeError, ValueError) as exc:
        raise invalid_argument("page_size must be an integer.", field="page_size") from exc
    size = max(1, min(size, 10_000))
    with svc.lock:
        series = _series(svc, call)
        steps = series.steps(svc.now())
        if order.endswith("desc"):
            steps = steps[::-1]
        elif not order:
            random.Random(series.name).shuffle(steps)
        scope = f"export:{series.name}:{order}"
        token = call.body.get("pageToken") or call.body.get("page_token")
        start = decode_token(str(token), scope) if token else 0
        page = steps[start : start + size]
        result: dict[str, Any] = {"timeSeriesDataPoints": [series.point(step) for step in page]}
        if start + size < len(steps):
            result["nextPageToken"] = encode_token(start + size, scope)
        return result


ROUTES: Routes = {
    ("GET", "metadataStores/*/contexts/*"): ("metadata.contexts.get", get_context),
    ("GET", "tensorboards/*/experiments/*/runs"): ("tensorboards.runs.list", list_runs),
    ("GET", "tensorboards/*/experiments/*/runs/*/timeSeries"): (
        "tensorboards.timeSeries.list",
        list_time_series,
    ),
    ("GET", "tensorboards/*:batchRead"): ("tensorboards.batchRead", batch_read),
    ("GET", "tensorboards/*/experiments/*/runs/*/timeSeries/*:read"): ("tensorboards.timeSeries.read", read),
    ("POST", "tensorboards/*/experiments/*/runs/*/timeSeries/*:exportTensorboardTimeSeries"): (
        "tensorboards.timeSeries.export",
        export,
    ),
}
