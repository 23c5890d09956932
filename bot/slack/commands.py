"""Parsing what people type after `/tune`. Pure functions, no Slack calls."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.domain.errors import UsageError
from bot.domain.requests import StartArgs, ValidationChoice
from bot.domain.text import escape_truncated
from bot.vertex.objects import CloudObject

MAX_EPOCHS = 100
MAX_BATCH_SIZE = 64
DISPLAY_NAME_MAX = 40
ECHO_LIMIT = 80  # characters of a user's input quoted back in an error


@dataclass(frozen=True)
class Command:
    name: str
    rest: str


def split_command(text: str) -> Command:
    """`"start sales epochs=3"` -> Command("start", "sales epochs=3"). Empty -> help."""
    stripped = text.strip()
    if not stripped:
        return Command("help", "")
    head, _, rest = stripped.partition(" ")
    return Command(head.lower(), rest.strip())


MIN_VALIDATION_PERCENT = 1
MAX_VALIDATION_PERCENT = 50


START_KEYS = {
    "name": "name",
    "display_name": "name",
    "epochs": "epochs",
    "epoch_count": "epochs",
    "batch_size": "batch_size",
    "batch": "batch_size",
    "learning_rate": "learning_rate",
    "lr": "learning_rate",
    "learning_rate_multiplier": "learning_rate_multiplier",
    "lr_multiplier": "learning_rate_multiplier",
    "adapter_size": "adapter_size",
    "adapter": "adapter_size",
    "export_last_checkpoint_only": "export_last_checkpoint_only",
    "base_model": "base_model",
    "model": "base_model",
    "validation": "validation",
    "validation_set": "validation",
    "holdout": "validation",
    "from": "from",
    "from_model": "from",
    "continue_from": "from",
    "checkpoint": "checkpoint",
    "checkpoint_id": "checkpoint",
}

START_USAGE = (
    '`/tune start <dataset> [name="…"] [epochs=…] [base_model=…] [validation=10% | validation=<dataset>]` '
    "and, on Vertex AI, `[learning_rate_multiplier=1.0] [adapter_size=4] "
    "[export_last_checkpoint_only=true] [from=<model> [checkpoint=N]]`, "
    "on the Gemini API, `[batch_size=2] [learning_rate=0.001]`"
)
ADAPTER_SIZES = (1, 2, 4, 8, 16, 32)  # every size Vertex AI's AdapterSize enum names


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(_normalise_quotes(text))
    except ValueError as exc:
        raise UsageError(f"I could not read that: {exc} (check your quotes).") from exc


def echo(text: str) -> str:
    """User input shown back to them: `&`, `<`, `>` escaped (so `<!channel>` or `<@U1>`
    cannot ping anyone, inside code spans too) and long input shortened."""
    return escape_truncated(text, ECHO_LIMIT)


def _normalise_quotes(text: str) -> str:
    """Slack clients turn typed quotes into curly ones; shlex only knows straight ones."""
    return text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")


def did_you_mean(typed: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a mistyped word (at most two edits away, or a prefix), if any."""
    options = list(choices)
    typed = typed.lower()
    prefixed = [c for c in options if c.startswith(typed)] if len(typed) >= 2 else []
    if len(prefixed) == 1:
        return prefixed[0]
    found = process.extractOne(typed, options, scorer=Levenshtein.distance, score_cutoff=2)
    return str(found[0]) if found else None


def parse_int(raw: str, key: str, *, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError as exc:
        raise UsageError(f"`{key}` must be a whole number, not `{echo(raw)}`.") from exc
    if not low <= value <= high:
        raise UsageError(f"`{key}` must be between {low} and {high}, not {value}.")
    return value


def parse_learning_rate(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise UsageError(f"`learning_rate` must be a number such as 0.001, not `{echo(raw)}`.") from exc
    if not math.isfinite(value) or not 0 < value <= 1:
        raise UsageError(f"`learning_rate` must be greater than 0 and at most 1, not `{echo(raw)}`.")
    return value


def parse_multiplier(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise UsageError(
            f"`learning_rate_multiplier` must be a number such as 1.0, not `{echo(raw)}`."
        ) from exc
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"`learning_rate_multiplier` must be greater than 0, not `{echo(raw)}`.")
    return value


def parse_adapter_size(raw: str) -> int:
    sizes = ", ".join(str(size) for size in ADAPTER_SIZES)
    try:
        value = int(raw)
    except ValueError as exc:
        raise UsageError(f"`adapter_size` must be one of {sizes}, not `{echo(raw)}`.") from exc
    if value not in ADAPTER_SIZES:
        raise UsageError(f"`adapter_size` must be one of {sizes}, not {value}.")
    return value


def parse_yes_no(raw: str, key: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise UsageError(f"`{key}` must be `true` or `false`, not `{echo(raw)}`.")


def parse_validation(raw: str) -> ValidationChoice | None:
    """`10%` -> a tenth held out; `none`/`0%`/empty -> no validation set; else a dataset name."""
    text = raw.strip()
    if not text or text.lower() in ("none", "no", "off", "0", "0%"):
        return None
    if not text.endswith("%") and text.replace(".", "", 1).isdigit():
        raise UsageError(
            f"`validation={echo(raw)}`: write a share with a percent sign, such as `validation=10%`."
        )
    if text.endswith("%"):
        number = text.removesuffix("%").strip()
        try:
            percent = float(number)
        except ValueError as exc:
            raise UsageError(
                f"`validation` must be a share such as `10%` or the name of a dataset, not `{echo(raw)}`."
            ) from exc
        if not math.isfinite(percent) or not MIN_VALIDATION_PERCENT <= percent <= MAX_VALIDATION_PERCENT:
            raise UsageError(
                f"`validation` must hold out between {MIN_VALIDATION_PERCENT}% and "
                f"{MAX_VALIDATION_PERCENT}% of the dataset, not {echo(number)}%."
            )
        return ValidationChoice(percent=percent)
    return ValidationChoice(dataset=text)


def parse_checkpoint_id(raw: str) -> str:
    """`checkpoint=3` -> "3": a checkpoint id is its number (`/tune try` lists them)."""
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        raise UsageError(
            f"`checkpoint` must be a checkpoint's number, such as `checkpoint=2`, not `{echo(raw)}`."
        )
    return str(int(text))


def parse_from_model(raw: str) -> str:
    """`from=<model>`: a model's name, id or alias, as typed (resolved by the start)."""
    text = raw.strip()
    if not text:
        raise UsageError("`from` names the tuned model to continue from, e.g. `from=support-v1`.")
    return text


def check_display_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise UsageError("`name` cannot be empty.")
    if len(cleaned) > DISPLAY_NAME_MAX:
        raise UsageError(f"`name` can be at most {DISPLAY_NAME_MAX} characters; yours has {len(cleaned)}.")
    return cleaned


START_OPTIONS = (
    "name",
    "epochs",
    "base_model",
    "validation",
    "learning_rate_multiplier",
    "adapter_size",
    "export_last_checkpoint_only",
    "batch_size",
    "learning_rate",
    "from",
    "checkpoint",
)


# How each `/tune start` option (and each field of the start form) is read.
OPTION_PARSERS: dict[str, Callable[[str], object]] = {
    "epochs": lambda v: parse_int(v, "epochs", low=1, high=MAX_EPOCHS),
    "batch_size": lambda v: parse_int(v, "batch_size", low=1, high=MAX_BATCH_SIZE),
    "learning_rate": parse_learning_rate,
    "learning_rate_multiplier": parse_multiplier,
    "adapter_size": parse_adapter_size,
    "export_last_checkpoint_only": lambda v: parse_yes_no(v, "export_last_checkpoint_only"),
    "validation": parse_validation,
    "from": parse_from_model,
    "checkpoint": parse_checkpoint_id,
}


def parse_start(text: str) -> StartArgs:
    """The dataset and options of `/tune start`; every problem is reported at once. Options
    left out are None (the backend's defaults apply); which options the backend takes is
    checked by the start itself (`bot.services.jobs.check_start`)."""
    tokens = _tokens(text)
    if not tokens or "=" in tokens[0]:
        raise UsageError(f"Which dataset? Usage: {START_USAGE}")
    dataset, options = tokens[0], tokens[1:]
    values: dict[str, str] = {}
    problems: list[str] = []
    for token in options:
        key, sep, value = token.partition("=")
        canonical = START_KEYS.get(key.lower().replace("-", "_"))
        if not sep or canonical is None:
            guess = did_you_mean(key.lower().replace("-", "_"), START_KEYS) if sep else None
            hint = f" Did you mean `{START_KEYS[guess]}`?" if guess else ""
            problems.append(f"I don't know the option `{echo(token)}`.{hint}")
        elif canonical in values:
            problems.append(f"`{canonical}` is given twice.")
        else:
            values[canonical] = value
    name = None
    try:
        name = check_display_name(values["name"]) if "name" in values else None
    except UsageError as exc:
        problems.append(str(exc))
    parsed: dict[str, Any] = {}
    for key, parse in OPTION_PARSERS.items():
        if key in values:
            try:
                parsed[key] = parse(values[key])
            except UsageError as exc:
                problems.append(str(exc))
    if "checkpoint" in values and "from" not in values:
        problems.append(
            "`checkpoint` is the checkpoint of the model you continue from: give the model too, "
            "e.g. `from=support-v1 checkpoint=2`."
        )
    if problems:
        listed = "\n".join(f"• {problem}" for problem in problems)
        raise UsageError(f"{listed}\nOptions: {', '.join(START_OPTIONS)}. Usage: {START_USAGE}")
    return StartArgs(
        dataset,
        name,
        epoch_count=parsed.get("epochs"),
        batch_size=parsed.get("batch_size"),
        learning_rate=parsed.get("learning_rate"),
        base_model=values.get("base_model") or None,
        validation=parsed.get("validation"),
        learning_rate_multiplier=parsed.get("learning_rate_multiplier"),
        adapter_size=parsed.get("adapter_size"),
        export_last_checkpoint_only=parsed.get("export_last_checkpoint_only"),
        from_model=parsed.get("from"),
        from_checkpoint=parsed.get("checkpoint"),
    )


def split_first(text: str, what: str, usage: str) -> tuple[str, str]:
    """`"my-model what is 2+2"` -> ("my-model", "what is 2+2"); a quoted first word may hold
    spaces: `'"next number v2" 12'` -> ("next number v2", "12")."""
    stripped = _normalise_quotes(text).strip()
    if not stripped:
        raise UsageError(f"Which {what}? Usage: {usage}")
    if stripped[0] in "\"'":
        closing = stripped.find(stripped[0], 1)
        if closing > 0:
            return stripped[1:closing].strip(), stripped[closing + 1 :].strip()
    head, _, rest = stripped.partition(" ")
    return head.strip("`<>"), rest.strip()


UPLOAD_USAGE = (
    "`/tune upload` (a form to upload a file) or `/tune upload gs://bucket/path/file.jsonl [name]` "
    "(a file already in Cloud Storage, read where it is)"
)
_FILE_SUFFIX = re.compile(r"\.(jsonl|ndjson|json|csv|tsv)$", re.IGNORECASE)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


@dataclass(frozen=True)
class UploadArgs:
    """`/tune upload gs://bucket/object [name]`."""

    target: CloudObject
    dataset_name: str | None = None


def parse_cloud_uri(raw: str) -> CloudObject:
    """`gs://bucket/path/file.jsonl` -> its bucket and object name, or a UsageError saying
    exactly what is wrong with it (checked before anything is fetched)."""
    text = raw.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        raise UsageError(
            f"`{echo(text)}` is not a Cloud Storage URI. Give one such as `gs://my-bucket/data/train.jsonl`. "
            f"Usage: {UPLOAD_USAGE}"
        )
    if scheme.lower() in ("http", "https") and rest.startswith(
        ("storage.googleapis.com/", "storage.cloud.google.com/")
    ):
        path = rest.split("/", 1)[1]
        raise UsageError(f"Give the `gs://` URI of the file, not its web link: `gs://{echo(path)}`.")
    if scheme.lower() != "gs":
        raise UsageError(
            f"`{echo(text)}` is a `{echo(scheme)}://` address; tunebot reads Cloud Storage only: "
            "give a `gs://bucket/path` URI."
        )
    if any(ch.isspace() for ch in text):
        raise UsageError(
            f"`{echo(text)}` has a space in it. Vertex AI reads a Cloud Storage dataset by its URI, which "
            "cannot hold spaces here: rename the object (e.g. with `-` instead of spaces)."
        )
    bucket, _, name = rest.partition("/")
    if not bucket:
        raise UsageError(
            f"`{echo(text)}` names no bucket. Give one such as `gs://my-bucket/data/train.jsonl`."
        )
    if not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise UsageError(
            f"`{echo(bucket)}` is not a Cloud Storage bucket name (3–222 lowercase letters, digits, `-`, "
            "`_` and `.`, starting and ending with a letter or digit)."
        )
    if not name:
        raise UsageError(
            f"`gs://{echo(bucket)}/` names a bucket, not a file: give the file's path in it, such as "
            f"`gs://{echo(bucket)}/data/train.jsonl`."
        )
    if name.endswith("/"):
        raise UsageError(f"`{echo(text)}` names a folder, not a file: give the file's path in it.")
    return CloudObject(bucket, name)


def parse_upload(text: str) -> UploadArgs:
    """`gs://bucket/object`, then optionally the dataset's name (a word, a quoted name or
    `name="…"`)."""
    tokens = _tokens(text)
    if not tokens:
        raise UsageError(f"Usage: {UPLOAD_USAGE}")
    if "://" not in tokens[0] and not tokens[0].lower().startswith("gs:"):
        raise UsageError(
            f"`/tune upload` takes a Cloud Storage URI, not `{echo(tokens[0])}`. To upload a file from "
            f"your computer, type `/tune upload` alone (a form opens) or drop the file in a message to "
            f"me. Usage: {UPLOAD_USAGE}"
        )
    target = parse_cloud_uri(tokens[0])
    rest = tokens[1:]
    if len(rest) > 1:
        if "." in rest[0] or "/" in rest[0] or any("." in word for word in rest):
            raise UsageError(
                f"`{echo(' '.join(tokens))}` looks like a path with a space in it. Vertex AI reads a Cloud "
                "Storage dataset by its URI, which cannot hold spaces here: rename the object."
            )
        raise UsageError(
            f"Too many words after the URI: `{echo(' '.join(rest))}`. Put a dataset name with spaces in "
            f'quotes, e.g. `name="Support chats"`. Usage: {UPLOAD_USAGE}'
        )
    name: str | None = None
    if rest and _FILE_SUFFIX.search(rest[0]) and "=" not in rest[0]:
        raise UsageError(
            f"`{echo(' '.join(tokens))}` looks like a path with a space in it. Vertex AI reads a Cloud "
            "Storage dataset by its URI, which cannot hold spaces here: rename the object."
        )
    if rest:
        key, sep, value = rest[0].partition("=")
        if sep and key.lower().replace("-", "_") in ("name", "display_name"):
            name = value
        elif sep:
            raise UsageError(f"I don't know the option `{echo(rest[0])}`; only `name=` goes here.")
        else:
            name = rest[0]
        name = check_display_name(name)
    return UploadArgs(target, name)
