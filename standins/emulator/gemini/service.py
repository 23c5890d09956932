"""The emulator's in-memory Gemini API tuning service: tuned models, their operations, generation.

Nothing here trains anything. A tuning job is a timetable: step k of a job finishes at
`start_time + k * step_seconds` on the emulator's clock, and every read derives the job's
progress, loss snapshots and final state from that clock. Tests drive the clock with
`advance()`; the server may run in another thread, so every public method takes the lock.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import random
import re
import secrets
import string
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from standins.emulator.core import generation
from standins.emulator.core.clock import rfc3339
from standins.emulator.core.errors import RPC_CODES, ApiError, invalid_argument, not_found
from standins.emulator.core.judge import judge_answer
from standins.emulator.core.paging import clamp_page_size, decode_token, encode_token
from standins.emulator.core.runtime import Runtime
from standins.emulator.gemini.models import BASE_MODELS, tunable

TYPE_PREFIX = "type.googleapis.com/google.ai.generativelanguage.v1beta."
METADATA_TYPE = TYPE_PREFIX + "CreateTunedModelMetadata"
TUNED_MODEL_TYPE = TYPE_PREFIX + "TunedModel"

MODEL_ID = re.compile(r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$")
MAX_DISPLAY_NAME = 40
MAX_INPUT_CHARS = 40_000
MAX_OUTPUT_CHARS = 5_000
DEFAULT_EPOCHS = 5
DEFAULT_BATCH_SIZE = 4
DEFAULT_LEARNING_RATE = 0.001
DEFAULT_PAGE_SIZE = 10
_ID_ALPHABET = string.ascii_lowercase + string.digits
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")
_PATCHABLE = {
    "display_name": "display_name",
    "displayName": "display_name",
    "description": "description",
    "temperature": "temperature",
    "top_p": "top_p",
    "topP": "top_p",
    "top_k": "top_k",
    "topK": "top_k",
}


@dataclass
class ModelRecord:
    """One tuned model and its (single) tuning operation, as stored."""

    id: str
    seq: int
    operation_id: str
    display_name: str
    description: str
    base_model: str
    temperature: float
    top_p: float
    top_k: int
    epoch_count: int
    batch_size: int
    learning_rate: float | None
    learning_rate_multiplier: float | None
    examples: list[tuple[str, str]]
    create_time: float
    update_time: float
    start_time: float
    step_seconds: float
    total_steps: int
    fail_at_step: int | None = None
    state: str = "CREATING"
    complete_time: float | None = None

    @property
    def name(self) -> str:
        return f"tunedModels/{self.id}"

    @property
    def operation_name(self) -> str:
        return f"{self.name}/operations/{self.operation_id}"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelRecord:
        values = dict(data)
        values["examples"] = [(str(a), str(b)) for a, b in values.get("examples", [])]
        return cls(**values)


class GeminiService:
    """tunedModels, their operations, base models and generateContent; JSON-ready dicts in and out."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self.config = runtime.config
        self._lock = runtime.lock
        self._seq = 0
        self._models: dict[str, ModelRecord] = {}
        # The bodies of the generateContent calls answered, oldest first (tests read the
        # conversation a model was sent).
        self.generate_requests: list[dict[str, Any]] = []
        if self.config.state_file is not None and Path(self.config.state_file).exists():
            self._load(Path(self.config.state_file))

    def now(self) -> float:
        return self._runtime.now()

    def clock_moved(self) -> None:
        """Record the jobs that ended by the (moved) clock, and keep the state file current."""
        with self._lock:
            self._settle_all()
            self._save()

    def end_times(self) -> list[float]:
        with self._lock:
            return [
                r.start_time + r.total_steps * r.step_seconds
                for r in self._models.values()
                if r.state == "CREATING"
            ]

    def faults_changed(self) -> None:
        """Jobs still tuning whose model now matches `fail_models` fail at their next step."""
        with self._lock:
            now = self.now()
            for record in self._models.values():
                if record.state == "CREATING" and record.fail_at_step is None and self._should_fail(record):
                    done = self._completed_steps(record, now)
                    record.fail_at_step = min(record.total_steps, done + 1)
            self._save()

    def reset(self) -> None:
        with self._lock:
            self._models.clear()
            self._seq = 0
            self._save()

    # -- base models ---------------------------------------------------------------------------

    def list_models(self, page_size: int | None = None, page_token: str | None = None) -> dict[str, Any]:
        models = sorted(BASE_MODELS.values(), key=lambda m: m.name)
        size = clamp_page_size(page_size, default=50)
        start = decode_token(page_token, "models") if page_token else 0
        page = models[start : start + size]
        out: dict[str, Any] = {"models": [m.to_json() for m in page]}
        if start + size < len(models):
            out["nextPageToken"] = encode_token(start + size, "models")
        return out

    def get_model(self, model_id: str) -> dict[str, Any]:
        model = BASE_MODELS.get(f"models/{model_id}")
        if model is None:
            raise not_found(f"models/{model_id} is not found for API version v1beta, or is not supported.")
        return model.to_json()

    # -- tuned models --------------------------------------------------------------------------

    def list_tuned_models(
        self, page_size: int | None = None, page_token: str | None = None, filter: str | None = None
    ) -> dict[str, Any]:
        size = clamp_page_size(page_size, default=DEFAULT_PAGE_SIZE)
        terms = _filter_terms(filter or "")
        scope = "tunedModels:" + (filter or "")
        with self._lock:
            after = decode_token(page_token, scope) if page_token else -1
            self._settle_all()
            matches = [
                r
                for r in sorted(self._models.values(), key=lambda r: r.seq)
                if r.seq > after and _matches(r, terms)
            ]
            page = matches[:size]
            out: dict[str, Any] = {}
            if page:  # proto3 JSON leaves an empty repeated field out: no models -> {}
                out["tunedModels"] = [self._model_json(r) for r in page]
            if len(matches) > size:
                out["nextPageToken"] = encode_token(page[-1].seq, scope)
            return out

    def create_tuned_model(
        self, body: Mapping[str, Any], tuned_model_id: str | None = None
    ) -> dict[str, Any]:
        """tunedModels.create from a parsed (snake_case) TunedModel; returns the Operation."""
        display_name = body.get("display_name", "")
        if len(display_name) > MAX_DISPLAY_NAME:
            raise invalid_argument(
                f"display_name is {len(display_name)} characters long; the limit is {MAX_DISPLAY_NAME}.",
                field="tuned_model.display_name",
            )
        source = body.get("tuned_model_source") or {}
        base_name = body.get("base_model") or ""
        if source:
            raise invalid_argument(
                "Tuning from a tuned model (tuned_model_source) is not supported by the emulator; "
                "set base_model.",
                field="tuned_model.tuned_model_source",
            )
        if not base_name:
            raise invalid_argument("base_model is required.", field="tuned_model.base_model")
        base = BASE_MODELS.get(base_name)
        if base is None:
            raise invalid_argument(
                f"Base model {base_name} is not found. Tunable base models: {', '.join(tunable())}.",
                field="tuned_model.base_model",
            )
        if not base.tunable:
            raise invalid_argument(
                f"Base model {base_name} does not support tuning. "
                f"Tunable base models: {', '.join(tunable())}.",
                field="tuned_model.base_model",
            )
        task = body.get("tuning_task")
        if not task:
            raise invalid_argument("tuning_task is required.", field="tuned_model.tuning_task")
        examples = _examples(task)
        hyper = task.get("hyperparameters") or {}
        epochs = hyper.get("epoch_count", DEFAULT_EPOCHS)
        batch = hyper.get("batch_size", DEFAULT_BATCH_SIZE)
        rate = hyper.get("learning_rate")
        multiplier = hyper.get("learning_rate_multiplier")
        where = "tuned_model.tuning_task.hyperparameters"
        if epochs <= 0:
            raise invalid_argument(
                f"epoch_count must be positive, got {epochs}.", field=f"{where}.epoch_count"
            )
        if batch <= 0:
            raise invalid_argument(f"batch_size must be positive, got {batch}.", field=f"{where}.batch_size")
        if rate is not None and multiplier is not None:
            raise invalid_argument(
                "Only one of learning_rate and learning_rate_multiplier may be set.", field=where
            )
        if rate is not None and rate <= 0:
            raise invalid_argument(
                f"learning_rate must be positive, got {rate}.", field=f"{where}.learning_rate"
            )
        if multiplier is not None and multiplier <= 0:
            raise invalid_argument(
                f"learning_rate_multiplier must be positive, got {multiplier}.",
                field=f"{where}.learning_rate_multiplier",
            )
        if rate is None and multiplier is None:
            rate = DEFAULT_LEARNING_RATE
        temperature = body.get("temperature", base.temperature)
        top_p = body.get("top_p", base.top_p)
        top_k = body.get("top_k", base.top_k)
        _check_sampling(temperature, top_p, top_k)
        if tuned_model_id is not None and not MODEL_ID.match(tuned_model_id):
            raise invalid_argument(
                f"tuned_model_id {tuned_model_id!r} is invalid: it must be 1-40 characters of lowercase "
                "letters, digits and dashes, start with a letter and not end with a dash.",
                field="tuned_model_id",
            )
        with self._lock:
            if tuned_model_id is not None and tuned_model_id in self._models:
                raise ApiError(
                    409, f"Tuned model tunedModels/{tuned_model_id} already exists.", status="ALREADY_EXISTS"
                )
            model_id = tuned_model_id or self._new_id(display_name)
            now = self.now()
            self._seq += 1
            record = ModelRecord(
                id=model_id,
                seq=self._seq,
                operation_id=_random_id(12),
                display_name=display_name,
                description=body.get("description", ""),
                base_model=base.name,
                temperature=temperature,
                top_p=top_p,
                top_k=top_k,
                epoch_count=epochs,
                batch_size=batch,
                learning_rate=rate,
                learning_rate_multiplier=multiplier,
                examples=examples,
                create_time=now,
                update_time=now,
                start_time=now,
                step_seconds=max(0.0, self.config.step_seconds),
                total_steps=max(1, math.ceil(len(examples) * epochs / batch)),
            )
            if self._should_fail(record):
                fraction = min(1.0, max(0.0, self.config.fail_at_fraction))
                record.fail_at_step = max(1, math.ceil(record.total_steps * fraction))
            self._models[model_id] = record
            self._settle(record, now)
            self._save()
            return self._operation_json(record, now)

    def get_tuned_model(self, model_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._record(model_id)
            self._settle(record, self.now())
            return self._model_json(record)

    def patch_tuned_model(
        self, model_id: str, body: Mapping[str, Any], update_mask: str | None
    ) -> dict[str, Any]:
        paths = [p.strip() for p in (update_mask or "").split(",") if p.strip()]
        if not paths:
            paths = list(body)
        if not paths:
            raise invalid_argument("update_mask is required.", field="update_mask")
        fields = []
        for path in paths:
            target = _PATCHABLE.get(path)
            if target is None:
                raise invalid_argument(
                    f"Invalid update_mask path {path!r}: only display_name, description, temperature, "
                    "top_p and top_k can be updated.",
                    field="update_mask",
                )
            fields.append(target)
        display_name = body.get("display_name")
        if "display_name" in fields and display_name is not None and len(display_name) > MAX_DISPLAY_NAME:
            raise invalid_argument(
                f"display_name is {len(display_name)} characters long; the limit is {MAX_DISPLAY_NAME}.",
                field="tuned_model.display_name",
            )
        with self._lock:
            record = self._record(model_id)
            self._settle(record, self.now())
            base = BASE_MODELS[record.base_model]
            defaults = {
                "display_name": "",
                "description": "",
                "temperature": base.temperature,
                "top_p": base.top_p,
                "top_k": base.top_k,
            }
            new = {name: body.get(name, defaults[name]) for name in fields}
            _check_sampling(
                new.get("temperature", record.temperature),
                new.get("top_p", record.top_p),
                new.get("top_k", record.top_k),
            )
            for name, value in new.items():
                setattr(record, name, value)
            record.update_time = max(self.now(), record.update_time)
            self._save()
            return self._model_json(record)

    def delete_tuned_model(self, model_id: str) -> dict[str, Any]:
        with self._lock:
            self._record(model_id)
            del self._models[model_id]
            self._save()
            return {}

    def generate_content(self, model_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        prompt = _prompt_of(request)
        with self._lock:
            record = self._record(model_id)
            self._settle(record, self.now())
            if record.state != "ACTIVE":
                detail = "is still being tuned" if record.state == "CREATING" else "failed to tune"
                raise ApiError(
                    400,
                    f"Tuned model {record.name} is not ready for use: it {detail} (state {record.state}).",
                    status="FAILED_PRECONDITION",
                )
            text = generation.answer(prompt, record.examples)
            model_version = record.id
            self.generate_requests.append(dict(request))
        return _generation_response(text, request, model_version)

    def generate_base_content(self, model_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """models.generateContent on a base model: it knows none of anyone's examples."""
        model = BASE_MODELS.get(f"models/{model_id}")
        if model is None or "generateContent" not in model.methods:
            raise not_found(
                f"models/{model_id} is not found for API version v1beta, or is not supported for "
                "generateContent. Call ListModels to see the list of available models and their "
                "supported methods."
            )
        prompt = _prompt_of(request)
        with self._lock:
            self.generate_requests.append(dict(request))
        judged = judge_answer(prompt, prefers=self._runtime.faults.judge_prefers)
        text = judged if judged is not None else generation.base_answer(prompt)
        return _generation_response(text, request, model.id)

    # -- operations ----------------------------------------------------------------------------

    def get_operation(self, model_id: str, operation_id: str) -> dict[str, Any]:
        with self._lock:
            record = self._models.get(model_id)
            if record is None or record.operation_id != operation_id:
                raise not_found(f"Operation tunedModels/{model_id}/operations/{operation_id} not found.")
            now = self.now()
            self._settle(record, now)
            return self._operation_json(record, now)

    def list_operations(
        self, model_id: str, page_size: int | None = None, page_token: str | None = None
    ) -> dict[str, Any]:
        clamp_page_size(page_size, default=DEFAULT_PAGE_SIZE)
        with self._lock:
            record = self._record(model_id)
            if page_token:
                decode_token(page_token, f"operations:{model_id}")
                return {}
            now = self.now()
            self._settle(record, now)
            return {"operations": [self._operation_json(record, now)]}

    # -- helpers for tests and tools -----------------------------------------------------------

    def model_ids(self) -> list[str]:
        with self._lock:
            return [r.id for r in sorted(self._models.values(), key=lambda r: r.seq)]

    # -- internals -----------------------------------------------------------------------------

    def _record(self, model_id: str) -> ModelRecord:
        record = self._models.get(model_id)
        if record is None:
            raise not_found(f"Tuned model tunedModels/{model_id} does not exist.")
        return record

    def _new_id(self, display_name: str) -> str:
        slug = _SLUG_UNSAFE.sub("-", display_name.lower()).strip("-")
        if not slug or not slug[0].isalpha():
            slug = ("model-" + slug).rstrip("-")
        slug = slug[:27].rstrip("-")
        while True:
            candidate = f"{slug}-{_random_id(12)}"
            if candidate not in self._models:
                return candidate

    def _should_fail(self, record: ModelRecord) -> bool:
        keys = (record.id, record.name, record.display_name)
        patterns = self._runtime.faults.fail_models
        return any(fnmatch.fnmatchcase(key, pattern) for pattern in patterns for key in keys if key)

    @staticmethod
    def _completed_steps(record: ModelRecord, now: float) -> int:
        if record.step_seconds <= 0:
            done = record.total_steps
        else:
            done = math.floor((now - record.start_time) / record.step_seconds + 1e-9)
        done = max(0, min(record.total_steps, done))
        if record.fail_at_step is not None:
            done = min(done, record.fail_at_step)
        return done

    def _settle(self, record: ModelRecord, now: float) -> None:
        """Record the job's end (state, completeTime) once the clock has passed it."""
        if record.state != "CREATING":
            return
        done = self._completed_steps(record, now)
        end_step = record.fail_at_step if record.fail_at_step is not None else record.total_steps
        if done >= end_step:
            record.state = "FAILED" if record.fail_at_step is not None else "ACTIVE"
            record.complete_time = record.start_time + end_step * record.step_seconds
            record.update_time = record.complete_time
            self._save()

    def _settle_all(self) -> None:
        now = self.now()
        for record in self._models.values():
            self._settle(record, now)

    def _snapshots(self, record: ModelRecord, steps: int) -> list[dict[str, Any]]:
        n = len(record.examples)
        out = []
        for step in range(1, steps + 1):
            epoch = min(record.epoch_count - 1, (step * record.batch_size - 1) // n)
            snapshot: dict[str, Any] = {"step": step}
            if epoch:
                snapshot["epoch"] = epoch  # proto3 JSON leaves zero values out
            snapshot["meanLoss"] = _loss(record, step)
            snapshot["computeTime"] = rfc3339(record.start_time + step * record.step_seconds)
            out.append(snapshot)
        return out

    def _model_json(self, record: ModelRecord) -> dict[str, Any]:
        steps = self._completed_steps(record, self.now())
        hyper: dict[str, Any] = {}
        if record.learning_rate is not None:
            hyper["learningRate"] = record.learning_rate
        if record.learning_rate_multiplier is not None:
            hyper["learningRateMultiplier"] = record.learning_rate_multiplier
        hyper["epochCount"] = record.epoch_count
        hyper["batchSize"] = record.batch_size
        task: dict[str, Any] = {"startTime": rfc3339(record.start_time)}
        if record.complete_time is not None:
            task["completeTime"] = rfc3339(record.complete_time)
        snapshots = self._snapshots(record, steps)
        if snapshots:
            task["snapshots"] = snapshots
        task["hyperparameters"] = hyper
        out: dict[str, Any] = {"name": record.name, "baseModel": record.base_model}
        if record.display_name:
            out["displayName"] = record.display_name
        if record.description:
            out["description"] = record.description
        out.update(
            {
                "state": record.state,
                "createTime": rfc3339(record.create_time),
                "updateTime": rfc3339(record.update_time),
                "tuningTask": task,
                "temperature": record.temperature,
                "topP": record.top_p,
                "topK": record.top_k,
            }
        )
        return out

    def _operation_json(self, record: ModelRecord, now: float) -> dict[str, Any]:
        steps = self._completed_steps(record, now)
        metadata: dict[str, Any] = {"@type": METADATA_TYPE, "totalSteps": record.total_steps}
        if steps:
            metadata["completedSteps"] = steps
            metadata["completedPercent"] = round(steps * 100.0 / record.total_steps, 6)
            metadata["snapshots"] = self._snapshots(record, steps)
        metadata["tunedModel"] = record.name
        out: dict[str, Any] = {"name": record.operation_name, "metadata": metadata}
        if record.state == "ACTIVE":
            out["done"] = True
            out["response"] = {"@type": TUNED_MODEL_TYPE, **self._model_json(record)}
        elif record.state == "FAILED":
            out["done"] = True
            out["error"] = {
                "code": RPC_CODES["INTERNAL"],
                "message": (
                    f"Tuning of {record.name} failed at step {record.fail_at_step} of {record.total_steps}: "
                    "the training job stopped with an internal error (failure injected by the emulator)."
                ),
            }
        return out

    # -- persistence ---------------------------------------------------------------------------

    def _save(self) -> None:
        path = self.config.state_file
        if path is None:
            return
        path = Path(path)
        data = {
            "version": 1,
            "clock_offset": self._runtime.offset,
            "seq": self._seq,
            "models": [asdict(r) for r in sorted(self._models.values(), key=lambda r: r.seq)],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self._runtime.offset = float(data.get("clock_offset", 0.0))
        self._seq = int(data.get("seq", 0))
        for item in data.get("models", []):
            record = ModelRecord.from_json(item)
            self._models[record.id] = record


def _random_id(length: int) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _loss(record: ModelRecord, step: int) -> float:
    """Mean loss after `step`: an exponential decay towards a floor, with seeded noise."""
    progress = step / record.total_steps
    clean = 0.08 + 7.5 * math.exp(-5.0 * progress)
    noise = random.Random(f"{record.id}:{step}").uniform(-0.03, 0.03)
    return round(clean * (1.0 + noise), 6)


def _check_sampling(temperature: float, top_p: float, top_k: int) -> None:
    if not 0.0 <= temperature <= 2.0:
        raise invalid_argument(
            f"temperature must be between 0 and 2, got {temperature}.", field="tuned_model.temperature"
        )
    if not 0.0 <= top_p <= 1.0:
        raise invalid_argument(f"top_p must be between 0 and 1, got {top_p}.", field="tuned_model.top_p")
    if top_k < 0:
        raise invalid_argument(f"top_k must not be negative, got {top_k}.", field="tuned_model.top_k")


def _examples(task: Mapping[str, Any]) -> list[tuple[str, str]]:
    items = (((task.get("training_data") or {}).get("examples") or {}).get("examples")) or []
    where = "tuned_model.tuning_task.training_data.examples.examples"
    if not items:
        raise invalid_argument(
            "The training data is empty: tuning_task.training_data.examples.examples needs at least one "
            "example.",
            field=where,
        )
    out = []
    for index, item in enumerate(items):
        text_input = item.get("text_input", "")
        output = item.get("output", "")
        if not text_input.strip():
            raise invalid_argument(
                f"Example {index} has an empty text_input.", field=f"{where}[{index}].text_input"
            )
        if not output.strip():
            raise invalid_argument(f"Example {index} has an empty output.", field=f"{where}[{index}].output")
        if len(text_input) > MAX_INPUT_CHARS:
            raise invalid_argument(
                f"Example {index} text_input is {len(text_input):,} characters long; the limit is "
                f"{MAX_INPUT_CHARS:,}.",
                field=f"{where}[{index}].text_input",
            )
        if len(output) > MAX_OUTPUT_CHARS:
            raise invalid_argument(
                f"Example {index} output is {len(output):,} characters long; "
                f"the limit is {MAX_OUTPUT_CHARS:,}.",
                field=f"{where}[{index}].output",
            )
        out.append((text_input, output))
    return out


def _filter_terms(text: str) -> list[str]:
    terms = text.split()
    for term in terms:
        if ":" in term and term.lower() not in ("owner:me", "readers:everyone", "readers:me"):
            raise invalid_argument(
                f"Invalid filter term {term!r}: use words to match the display name or description, "
                "owner:me or readers:everyone.",
                field="filter",
            )
    return terms


def _matches(record: ModelRecord, terms: list[str]) -> bool:
    haystack = f"{record.display_name} {record.description}".lower()
    for term in terms:
        lowered = term.lower()
        if lowered in ("owner:me", "readers:me"):
            continue
        if lowered == "readers:everyone":
            return False  # emulated models are never public
        if lowered not in haystack:
            return False
    return True


def _prompt_of(request: Mapping[str, Any]) -> str:
    """The last user turn's text, after Google's checks on `contents`."""
    contents = request.get("contents") or []
    if not contents:
        raise invalid_argument("* GenerateContentRequest.contents: contents is not specified\n")
    for index, content in enumerate(contents):
        if not content.get("parts"):
            raise invalid_argument(
                f"* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty.\n"
            )
    user_turns = [c for c in contents if c.get("role", "user") == "user"] or contents
    total_chars = sum(len(p.get("text", "")) for c in contents for p in c["parts"])
    if total_chars > MAX_INPUT_CHARS:
        raise invalid_argument(
            f"The input is {total_chars:,} characters long; a tuned model accepts at most "
            f"{MAX_INPUT_CHARS:,}."
        )
    return "".join(p.get("text", "") for p in user_turns[-1]["parts"])


def _generation_response(text: str, request: Mapping[str, Any], model_version: str) -> dict[str, Any]:
    contents = request.get("contents") or []
    config = request.get("generation_config") or {}
    finish = "STOP"
    max_tokens = config.get("max_output_tokens")
    if max_tokens is not None and max_tokens > 0 and generation.count_tokens(text) > max_tokens:
        text, finish = text[: max_tokens * 4], "MAX_TOKENS"
    prompt_tokens = sum(generation.count_tokens(p.get("text", "")) for c in contents for p in c["parts"])
    answer_tokens = generation.count_tokens(text)
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": finish,
                "index": 0,
                "safetyRatings": [
                    {"category": f"HARM_CATEGORY_{c}", "probability": "NEGLIGIBLE"}
                    for c in ("SEXUALLY_EXPLICIT", "HATE_SPEECH", "HARASSMENT", "DANGEROUS_CONTENT")
                ],
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
        },
        "modelVersion": model_version,
    }
