"""What the Vertex AI tuning surface answers, as typed values: tuning jobs, their tuned
model and checkpoints, data statistics, TensorBoard series and points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Vertex AI's AdapterSize enum by size, and back.
ADAPTER_SIZE_ENUM = {
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_TWO",
    4: "ADAPTER_SIZE_FOUR",
    8: "ADAPTER_SIZE_EIGHT",
    16: "ADAPTER_SIZE_SIXTEEN",
    32: "ADAPTER_SIZE_THIRTY_TWO",
}
ADAPTER_SIZE_NUMBER = {name: size for size, name in ADAPTER_SIZE_ENUM.items()}


@dataclass(frozen=True)
class CheckpointRef:
    checkpoint_id: str
    epoch: int | None
    step: int | None
    endpoint: str | None


@dataclass(frozen=True)
class TunedModelRef:
    model: str | None
    endpoint: str | None
    checkpoints: tuple[CheckpointRef, ...] = ()


@dataclass(frozen=True)
class SupervisedDataStats:
    example_count: int | None
    billable_tokens: int | None
    truncated_examples: int | None
    dropped_reasons: tuple[str, ...]


@dataclass(frozen=True)
class TuningJob:
    name: str
    state: str
    base_model: str
    display_name: str | None
    create_time: datetime | None
    tuned_model: TunedModelRef | None
    error_message: str | None
    total_steps: int | None
    example_count: int | None
    # v1beta1 extras and what a progress display needs (all optional on the wire).
    sub_state: str | None = None  # tuningJobState, e.g. TUNING_JOB_STATE_WAITING_FOR_QUOTA
    completed_epochs: int | None = None  # tuningJobMetadata.completedEpochCount
    epoch_count: int | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    experiment: str | None = None
    error_code: int | None = None
    data_stats: SupervisedDataStats | None = None
    training_uri: str | None = None
    validation_uri: str | None = None
    # supervisedTuningSpec as the job holds it: the multiplier, the AdapterSize enum name
    # (`ADAPTER_SIZE_FOUR`), exportLastCheckpointOnly; `spec_read` when the spec was there.
    learning_rate_multiplier: float | None = None
    adapter_size: str | None = None
    export_last_checkpoint_only: bool = False
    spec_read: bool = False
    # Continued tuning: `preTunedModel` {tunedModelName, checkpointId, baseModel}.
    pre_tuned_model: str | None = None
    pre_tuned_checkpoint: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TuningJob:
        tuned = data.get("tunedModel")
        error = data.get("error")
        stats = (data.get("tuningDataStats") or {}).get("supervisedTuningDataStats") or {}
        spec = data.get("supervisedTuningSpec") or {}
        hyper = spec.get("hyperParameters") or {}
        meta = data.get("tuningJobMetadata") or {}
        pre_tuned = data.get("preTunedModel")
        source = pre_tuned if isinstance(pre_tuned, dict) else {}
        return cls(
            name=str(data.get("name", "")),
            state=str(data.get("state", "JOB_STATE_UNSPECIFIED")),
            # A continued job names its base model in `preTunedModel.baseModel` (output only).
            base_model=str(data.get("baseModel") or source.get("baseModel") or ""),
            display_name=data.get("tunedModelDisplayName"),
            create_time=_time(data.get("createTime")),
            tuned_model=_tuned_model(tuned) if isinstance(tuned, dict) else None,
            error_message=(str(error.get("message") or "") or None) if isinstance(error, dict) else None,
            total_steps=int_or_none(stats.get("tuningStepCount")),
            example_count=int_or_none(stats.get("tuningDatasetExampleCount")),
            sub_state=data.get("tuningJobState") or None,
            completed_epochs=int_or_none(meta.get("completedEpochCount")),
            epoch_count=int_or_none(hyper.get("epochCount")),
            start_time=_time(data.get("startTime")),
            end_time=_time(data.get("endTime")),
            experiment=data.get("experiment") or None,
            error_code=int_or_none(error.get("code")) if isinstance(error, dict) else None,
            data_stats=_data_stats(stats) if stats else None,
            training_uri=spec.get("trainingDatasetUri") or None,
            validation_uri=spec.get("validationDatasetUri") or None,
            learning_rate_multiplier=_float_or_none(hyper.get("learningRateMultiplier")),
            adapter_size=str(hyper.get("adapterSize") or "") or None,
            export_last_checkpoint_only=spec.get("exportLastCheckpointOnly") is True,
            spec_read=isinstance(data.get("supervisedTuningSpec"), dict),
            pre_tuned_model=str(source.get("tunedModelName") or "") or None,
            pre_tuned_checkpoint=str(source.get("checkpointId") or "") or None,
        )


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _tuned_model(tuned: Mapping[str, Any]) -> TunedModelRef:
    checkpoints = tuple(
        CheckpointRef(
            checkpoint_id=str(c.get("checkpointId", "")),
            epoch=int_or_none(c.get("epoch")),
            step=int_or_none(c.get("step")),
            endpoint=c.get("endpoint") or None,
        )
        for c in tuned.get("checkpoints") or []
        if isinstance(c, dict)
    )
    return TunedModelRef(tuned.get("model"), tuned.get("endpoint"), checkpoints)


def _data_stats(stats: Mapping[str, Any]) -> SupervisedDataStats:
    reasons = tuple(str(r) for r in stats.get("droppedExampleReasons") or [] if r)
    return SupervisedDataStats(
        example_count=int_or_none(stats.get("tuningDatasetExampleCount")),
        billable_tokens=int_or_none(stats.get("totalBillableTokenCount")),
        truncated_examples=int_or_none(stats.get("totalTruncatedExampleCount")),
        dropped_reasons=reasons,
    )


@dataclass(frozen=True)
class TimeSeries:
    """A TensorBoard scalar series: `display_name` such as "/train_total_loss"."""

    name: str
    display_name: str
    max_step: int | None


@dataclass(frozen=True)
class SeriesPoint:
    step: int
    value: float


@dataclass(frozen=True)
class TuningJobPage:
    jobs: list[TuningJob]
    next_page_token: str | None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:  # Python < 3.11.? rejects more than 6 fraction digits
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def points_from(values: list[Any]) -> list[SeriesPoint]:
    points = []
    for value in values:
        if not isinstance(value, dict):
            continue
        step = int_or_none(value.get("step"))
        scalar = (value.get("scalar") or {}).get("value")
        if step is None or not isinstance(scalar, (int, float)):
            continue
        points.append(SeriesPoint(step, float(scalar)))
    return sorted(points, key=lambda p: p.step)


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
