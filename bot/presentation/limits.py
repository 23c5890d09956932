"""What the dataset limits say to people: `/tune start`'s refusals (what the backend takes,
tokens per example, the validation set's size) and an upload that skipped bad rows (its
reply and the CSV of the rows left out)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from bot.datasets import ParsedDataset, Problem, format_problems
from bot.domain.text import escape_mrkdwn as esc
from bot.evaluation.report import spreadsheet_safe
from bot.services.errors import ServiceError
from bot.services.limits import ConversationsNotTaken, ExampleTooLong, ValidationTooLarge, split_count
from bot.storage.models import Dataset

SERVICE_LABELS = {"vertex": "Vertex AI", "gemini": "the Gemini API (legacy tuning service)"}
SKIPPED_SHOWN = 10  # skipped rows listed in the reply (all of them are in the CSV)


def _service(backend: str) -> str:
    return SERVICE_LABELS.get(backend, f"the `{esc(backend)}` backend")


def _count(count: int, word: str, plural: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (plural or word + 's')}"


def limits_error_text(exc: ServiceError) -> str | None:
    """The words of a dataset-limit refusal of `/tune start` (None: not one of them)."""
    match exc:
        case ConversationsNotTaken():
            return conversations_refused_text(exc)
        case ExampleTooLong():
            return example_too_long_text(exc)
        case ValidationTooLarge():
            return validation_too_large_text(exc)
    return None


def conversations_refused_text(exc: ConversationsNotTaken) -> str:
    """The backend tunes on pairs only, and the dataset holds conversations."""
    held = []
    if exc.multi_turn_count:
        held.append(_count(exc.multi_turn_count, "multi-turn example"))
    if exc.system_count:
        held.append(
            "a system instruction"
            if exc.system_count == 1
            else f"a system instruction in {_count(exc.system_count, 'example')}"
        )
    service = _service(exc.backend)
    return (
        f":x: {service[:1].upper()}{service[1:]} tunes on input/output pairs only: dataset "
        f"*{esc(exc.dataset)}* has {' and '.join(held)}. Switch tunebot to Vertex AI "
        "(`TUNEBOT_BACKEND=vertex`, set by whoever runs tunebot), or upload input/output pairs. "
        "Nothing was started."
    )


def example_too_long_text(exc: ExampleTooLong) -> str:
    """The dataset's longest example is over the base model's tokens per example."""
    return (
        f":x: Dataset *{esc(exc.dataset)}* has an example of about {exc.tokens:,} tokens; "
        f"`{esc(exc.base_model)}` takes at most {exc.limit:,} tokens per example (every turn and "
        "the system instruction together). The count is an estimate (about 4 bytes a token), so "
        "the tuning service may count a little differently. Shorten or split the longest examples, "
        "or choose a base model that takes more. Nothing was started."
    )


def validation_too_large_text(exc: ValidationTooLarge) -> str:
    """The validation set is larger than the backend takes: the numbers, and what fits."""
    if exc.source == "split":
        percent = f"{exc.asked_percent:g}%" if exc.asked_percent is not None else "that share"
        asked = (
            f"`validation={percent}` would hold out {exc.validation_count:,} of the "
            f"{exc.validation_count + exc.training_count:,} examples"
        )
    else:
        asked = (
            f"Validation dataset *{esc(exc.validation_name or '')}* has "
            f"{_count(exc.validation_count, 'example')}"
        )
    service = _service(exc.backend)
    if exc.max_examples is not None and exc.validation_count > exc.max_examples:
        rule = f"{service} takes a validation set of at most {exc.max_examples:,} examples"
    else:
        share = f"{(exc.max_fraction or 0) * 100:g}%"
        rule = (
            f"{service} takes more than {exc.fraction_above:,} validation examples only up to "
            f"{share} of the training examples ({exc.training_count:,} here)"
        )
    if exc.percent is not None:
        dataset_size = (
            exc.validation_count + exc.training_count if exc.source == "split" else exc.training_count
        )
        held = split_count(dataset_size, exc.percent)
        fits = f"Use `validation={exc.percent:g}%` ({_count(held, 'example')}) or less"
        if exc.source == "dataset":
            fits += f", or a validation dataset of at most {_count(exc.largest, 'example')}"
    else:
        fits = (
            f"No share of 1% or more fits: use a separate validation dataset of at most "
            f"{_count(exc.largest, 'example')} (`validation=<dataset>`)"
        )
    return f":x: {asked}, and {rule}. {fits}. Nothing was started."


def stored_count_text(dataset: Dataset) -> str:
    """ "9,812 examples", or "9,812 of 9,840 examples" when bad rows were skipped."""
    if not dataset.skipped_count:
        return _count(dataset.example_count, "example")
    return f"{dataset.example_count:,} of {dataset.example_count + dataset.skipped_count:,} examples"


def skipped_rows_text(dataset: Dataset, *, csv_in_dm: bool) -> str:
    """After "Stored dataset *x*: 9,812 of 9,840 examples from `f.csv`": how many rows were
    left out and where they are listed."""
    where = "below and in a CSV in your DM with me" if csv_in_dm else "below"
    return f"; {_count(dataset.skipped_count, 'row')} skipped, listed {where}"


def skipped_rows_list(parsed: ParsedDataset) -> str:
    """The first skipped rows, worded as a refusal words them (the same grouping)."""
    listed = format_problems(parsed, max_shown=SKIPPED_SHOWN).split("\n", 1)
    return listed[1] if len(listed) > 1 else ""


def dataset_skipped_note(dataset: Dataset) -> str:
    """Beside a dataset's example count: the bad rows left out when it was uploaded."""
    if not dataset.skipped_count:
        return ""
    return f" ({_count(dataset.skipped_count, 'bad row')} skipped at upload)"


def skipped_csv(problems: Sequence[Problem], problem_count: int) -> bytes:
    """The skipped rows as CSV (location, field, problem), every cell safe to open in a
    spreadsheet; a last line says when only the first problems are listed."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["location", "field", "problem"])
    for problem in problems:
        writer.writerow(
            [
                spreadsheet_safe(problem.location),
                spreadsheet_safe(problem.field or ""),
                spreadsheet_safe(problem.message),
            ]
        )
    if problem_count > len(problems):
        writer.writerow(
            ["", "", f"only the first {len(problems):,} of {problem_count:,} problems are listed"]
        )
    return out.getvalue().encode("utf-8")


def skipped_csv_file_name(dataset_id: int | None) -> str:
    return f"tunebot-dataset-{dataset_id}-skipped-rows.csv"


def skipped_csv_title(dataset: str) -> str:
    """The title of the CSV of a dataset's skipped rows (a file title: plain text)."""
    return f"Rows skipped in dataset {dataset}"


def too_few_good_text(parsed: ParsedDataset, min_examples: int) -> str:
    """Skipping the bad rows would leave fewer examples than a dataset needs."""
    return (
        format_problems(parsed)
        + f"\nSkipping the bad rows would leave {_count(parsed.example_count, 'example')}; at least "
        f"{min_examples} are needed. Nothing was stored."
    )
