"""Following a Vertex tuning job's TensorBoard series within a budget of API calls.

The job's `experiment` (a Metadata Context) names the backing TensorBoard; the TensorBoard
experiment has the same id; its run holds the scalar series. Resolving that takes three
calls, once per job and process. After that, each poll makes ONE metrics call besides the
job itself, so a cycle costs at most two calls per job:

- the series list (`maxStep` of each series: the step, hence percent and ETA), or
- when a series has moved past the last loss read, its latest point (one point, sorted by
  step on the server): the current training or eval loss.

Points in bulk are read only to draw a chart (`curves`).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, replace

from bot.backends.vertex_progress import EVAL_LOSS, TRAIN_LOSS, MetricsSnapshot
from bot.vertex import SeriesPoint, TimeSeries, VertexClient

log = logging.getLogger(__name__)

BACKING_TENSORBOARD_KEY = "backing_tensorboard_resource"
BATCH_READ_LIMIT = 1000  # batchRead samples series longer than this; :read then gets up to 10k
CACHE_SIZE = 10_000


@dataclass(frozen=True)
class RunSeries:
    tensorboard: str
    run: str
    train: str | None = None
    eval: str | None = None


@dataclass
class _Followed:
    series: RunSeries
    snapshot: MetricsSnapshot


class MetricsTracker:
    """Per-process memory of each job's series and last readings (bounded, least recent out)."""

    def __init__(self, client: VertexClient, *, size: int = CACHE_SIZE) -> None:
        self.client = client
        self.size = size
        self._jobs: OrderedDict[str, _Followed] = OrderedDict()

    async def poll(self, job_name: str, experiment: str) -> MetricsSnapshot | None:
        """The job's metrics after at most one call (three more the first time)."""
        followed = self._jobs.get(job_name)
        if followed is None:
            series = await self.resolve(experiment)
            if series is None:
                return None
            listed = await self.client.list_time_series(series.run)
            followed = _Followed(_named(series, listed), _maxima(MetricsSnapshot(), series, listed))
            self._remember(job_name, followed)
            return followed.snapshot
        self._jobs.move_to_end(job_name)
        series, snap = followed.series, followed.snapshot
        if series.train and _behind(snap.train_max_step, snap.train_loss):
            point = await self.client.latest_point(series.train)
            followed.snapshot = _with_point(snap, point, train=True)
        elif series.eval and _behind(snap.eval_max_step, snap.eval_loss):
            point = await self.client.latest_point(series.eval)
            followed.snapshot = _with_point(snap, point, train=False)
        else:
            listed = await self.client.list_time_series(series.run)
            followed.series = _named(series, listed)
            followed.snapshot = _maxima(snap, followed.series, listed)
        return followed.snapshot

    async def resolve(self, experiment: str) -> RunSeries | None:
        """Experiment context -> backing TensorBoard -> the experiment's (first) run."""
        context = await self.client.get_context(experiment)
        tensorboard = str((context.get("metadata") or {}).get(BACKING_TENSORBOARD_KEY) or "")
        if not tensorboard:
            return None
        experiment_id = experiment.rstrip("/").rsplit("/", 1)[-1]
        runs = await self.client.list_tensorboard_runs(f"{tensorboard}/experiments/{experiment_id}")
        if not runs:
            return None
        return RunSeries(tensorboard=tensorboard, run=runs[0])

    async def curves(self, job_name: str, experiment: str) -> tuple[list[SeriesPoint], list[SeriesPoint]]:
        """All training and eval loss points (for a chart), each sorted by step."""
        followed = self._jobs.get(job_name)
        series = followed.series if followed else None
        if series is None or series.train is None:
            resolved = await self.resolve(experiment)
            if resolved is None:
                return [], []
            series = _named(resolved, await self.client.list_time_series(resolved.run))
        names = [name for name in (series.train, series.eval) if name]
        if not names:
            return [], []
        read = await self.client.batch_read(series.tensorboard, names)
        curves: list[list[SeriesPoint]] = []
        for name in (series.train, series.eval):
            points = read.get(name.rsplit("/", 1)[-1], []) if name else []
            if len(points) >= BATCH_READ_LIMIT and name:  # sampled: read the whole series
                points = await self.client.read_time_series(name)
            curves.append(points)
        return curves[0], curves[1]

    def forget(self, job_name: str) -> None:
        self._jobs.pop(job_name, None)

    def _remember(self, job_name: str, followed: _Followed) -> None:
        self._jobs[job_name] = followed
        while len(self._jobs) > self.size:
            self._jobs.popitem(last=False)


def _named(series: RunSeries, listed: list[TimeSeries]) -> RunSeries:
    by_display = {s.display_name: s.name for s in listed}
    return replace(series, train=by_display.get(TRAIN_LOSS), eval=by_display.get(EVAL_LOSS))


def _maxima(snap: MetricsSnapshot, series: RunSeries, listed: list[TimeSeries]) -> MetricsSnapshot:
    steps = {s.name: s.max_step for s in listed}
    return replace(
        snap,
        train_max_step=steps.get(series.train or "", snap.train_max_step),
        eval_max_step=steps.get(series.eval or "", snap.eval_max_step),
    )


def _behind(max_step: int | None, reading: SeriesPoint | None) -> bool:
    return max_step is not None and (reading is None or reading.step < max_step)


def _with_point(snap: MetricsSnapshot, point: SeriesPoint | None, *, train: bool) -> MetricsSnapshot:
    if point is None:
        return snap
    if train:
        return replace(snap, train_loss=point, train_max_step=max(point.step, snap.train_max_step or 0))
    return replace(snap, eval_loss=point, eval_max_step=max(point.step, snap.eval_max_step or 0))
