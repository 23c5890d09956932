"""Reading and checking a supervised tuning JSONL as Vertex AI does, from the emulator's Cloud
Storage, for `tuningJobs.create`.

When Vertex checks what (sources, checked 2026-12-03):
- At create, 400 INVALID_ARGUMENT, about the request and the file's location: a missing or
  unreadable `training_dataset_uri`, one that is not a JSONL object ("List of found errors:
  …Field: tuning_job.supervised_tuning_spec.training_dataset_uri; Message:
  training_dataset_uri should be a GCS object of type JSONL.", GoogleCloudPlatform/
  generative-ai issue #2081).
- The lines themselves are read after the job is created, while it is RUNNING in
  TUNING_JOB_STATE_PROCESSING_DATASET ("validating the dataset" for hours on a 1 GB file,
  GoogleCloudPlatform/generative-ai issue #656; "Vertex AI pulls your dataset from GCS when a
  job starts", jsonlkit.com's Gemini validator, which names Vertex's own checks: contents,
  user/model alternation starting with user, parts, the 131,072-token cap). A bad line fails
  the job: JOB_STATE_FAILED, `error` {code 3 (INVALID_ARGUMENT), message naming the file, the
  line and the problem}. So the emulator creates the job and fails it when its dataset step
  ends, with the first problem found, as `DatasetRead.error`.
- The limits ("Prepare supervised fine-tuning data", limits table): 131,072 tokens per
  example (input and output together), 10M text-only examples, 1 GB JSONL, 5,000 validation
  examples. Tokens are estimated (about four characters a token, `generation.count_tokens`).
- The messages follow the wording of Gemini's own content checks where one exists ("Please
  use a valid role: user, model.", "Requests ending with a model turn are not supported" is its
  generateContent twin); no public source quotes the tuning job's exact text, so the rest
  say what Vertex's documentation says the line must hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from standins.emulator.core import generation
from standins.emulator.core.generation import Example

MAX_EXAMPLE_TOKENS = 131_072
MAX_EXAMPLES = 10_000_000
MAX_FILE_BYTES = 1024 * 1024 * 1024
MAX_VALIDATION_EXAMPLES = 5000
NON_TEXT_PARTS = ("inlineData", "fileData", "functionCall", "functionResponse", "executableCode")


class LineError(ValueError):
    """One line of a tuning file that Vertex would refuse; the message says why."""


@dataclass
class DatasetRead:
    """What a tuning file holds, or the first problem in it (`error`, the job fails with it)."""

    examples: list[Example] = field(default_factory=list)
    error: str | None = None
    user_turns: list[int] = field(default_factory=list)  # user messages per example
    tokens: list[int] = field(default_factory=list)  # estimated tokens per example

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)


def check_file(data: bytes, uri: str, *, validation: bool = False) -> DatasetRead:
    """Every line of a supervised tuning JSONL, checked; the first problem ends the read."""
    read = DatasetRead()
    which = "Validation" if validation else "Training"
    if len(data) > MAX_FILE_BYTES:
        read.error = (
            f"{which} dataset {uri} is {len(data):,} bytes; the maximum size of a JSONL dataset "
            f"file is 1 GB ({MAX_FILE_BYTES:,} bytes)."
        )
        return read
    limit = MAX_VALIDATION_EXAMPLES if validation else MAX_EXAMPLES
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            example = check_line(line)
        except LineError as exc:
            read.error = f"Invalid {which.lower()} dataset {uri}: line {number}: {exc}"
            return read
        tokens = example_tokens(example)
        if tokens > MAX_EXAMPLE_TOKENS:
            read.error = (
                f"Invalid {which.lower()} dataset {uri}: line {number}: the example has {tokens:,} tokens, "
                f"which exceeds the maximum number of tokens per example ({MAX_EXAMPLE_TOKENS:,})."
            )
            return read
        if len(read.examples) >= limit:
            read.error = (
                f"{which} dataset {uri} has more than {limit:,} examples; at most {limit:,} are allowed"
                + (" in a validation dataset." if validation else ".")
            )
            return read
        read.examples.append(example)
        read.user_turns.append(len(example.turns) // 2)
        read.tokens.append(tokens)
    if not read.examples:
        read.error = f"{which} dataset {uri} has no examples."
    return read


def example_tokens(example: Example) -> int:
    texts = [*example.turns, example.system or ""]
    return sum(generation.count_tokens(text) for text in texts)


def check_line(line: str) -> Example:
    """One JSONL line -> an Example, or a LineError saying what Vertex refuses in it."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise LineError(f"the line is not valid JSON ({exc.msg}).") from exc
    if not isinstance(record, dict):
        raise LineError("each line must be a JSON object with `contents`.")
    contents = record.get("contents")
    if not isinstance(contents, list) or not contents:
        raise LineError("`contents` is required and must hold at least one user and one model turn.")
    turns = [_turn(content, index) for index, content in enumerate(contents)]
    roles = [role for role, _ in turns]
    for index, role in enumerate(roles):
        expected = "user" if index % 2 == 0 else "model"
        if role != expected:
            raise LineError(
                f"contents[{index}] has role `{role}`: the turns must alternate between `user` and "
                "`model`, starting with `user`."
            )
    if roles[-1] != "model":
        raise LineError("the last turn of `contents` must be a `model` turn (the answer to learn).")
    system = record.get("systemInstruction", record.get("system_instruction"))
    return Example(tuple(text for _, text in turns), _system(system) if system is not None else None)


def _turn(content: Any, index: int) -> tuple[str, str]:
    if not isinstance(content, dict):
        raise LineError(f"contents[{index}] must be an object with `role` and `parts`.")
    role = content.get("role")
    if role not in ("user", "model"):
        raise LineError(f"contents[{index}]: Please use a valid role: user, model (got `{role}`).")
    return role, _text_of(content.get("parts"), f"contents[{index}]")


def _system(system: Any) -> str:
    if not isinstance(system, dict):
        raise LineError("`systemInstruction` must be an object with text `parts`.")
    return _text_of(system.get("parts"), "systemInstruction")


def _text_of(parts: Any, where: str) -> str:
    if not isinstance(parts, list) or not parts:
        raise LineError(f"{where}.parts must be a non-empty list of parts.")
    texts = []
    for number, part in enumerate(parts):
        if not isinstance(part, dict):
            raise LineError(f"{where}.parts[{number}] must be an object.")
        other = next((name for name in NON_TEXT_PARTS if name in part), None)
        if other is not None:
            raise LineError(
                f"{where}.parts[{number}] is a `{other}` part: a text-only tuning job takes text parts only."
            )
        text = part.get("text")
        if not isinstance(text, str):
            raise LineError(f"{where}.parts[{number}] has no `text`.")
        texts.append(text)
    return "".join(texts)


def distribution(values: list[int]) -> dict[str, Any]:
    """A `SupervisedTuningDatasetDistribution` (sum, min, max, mean, median, p5, p95; int64 as
    strings, as Vertex's JSON writes them) of per-example values."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(share: float) -> float:
        return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))])

    return {
        "sum": str(sum(ordered)),
        "billableSum": str(sum(ordered)),
        "min": float(ordered[0]),
        "max": float(ordered[-1]),
        "mean": sum(ordered) / len(ordered),
        "median": at(0.5),
        "p5": at(0.05),
        "p95": at(0.95),
    }
