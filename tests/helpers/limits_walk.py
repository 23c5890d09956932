"""The dataset-limit messages (bot.presentation.limits) for tests/test_escaping_walk.py's
BUILDERS: each fed hostile text in every field a user controls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.datasets import parse_dataset
from bot.presentation import limits
from bot.services.limits import ConversationsNotTaken, ExampleTooLong, ValidationTooLarge
from bot.storage.models import Dataset


def limits_builders(hostile: str, dataset: Callable[[], Dataset]) -> dict[str, Callable[[], Any] | str]:
    def skipped() -> Dataset:
        stored = dataset()
        stored.skipped_count = 2
        return stored

    bad_rows = (
        "input,output\n" + "".join(f'"{hostile} {n}","{hostile}"\n' for n in range(12)) + '"x",""\n'
    ).encode()
    parsed = parse_dataset(bad_rows, hostile + ".csv")
    errors = [
        ConversationsNotTaken(hostile, hostile, 40, 1),
        ConversationsNotTaken("gemini", hostile, 0, 12),
        ExampleTooLong(hostile, hostile, 140_000, 131_072),
        ValidationTooLarge("vertex", "split", 6000, 54000, 5000, 0.3, 1000, 5000, 30.0, None, 9.2),
        ValidationTooLarge("vertex", "dataset", 1200, 2800, 5000, 0.3, 1000, 1000, None, hostile, 25.0),
        ValidationTooLarge(hostile, "dataset", 6000, 900_000, 5000, 0.3, 1000, 5000, None, hostile, None),
    ]
    return {
        "limits.limits_error_text": lambda: [limits.limits_error_text(exc) for exc in errors],
        "limits.conversations_refused_text": lambda: limits.conversations_refused_text(errors[0]),
        "limits.example_too_long_text": lambda: limits.example_too_long_text(errors[2]),
        "limits.validation_too_large_text": lambda: [limits.validation_too_large_text(e) for e in errors[3:]],
        "limits.dataset_skipped_note": lambda: limits.dataset_skipped_note(skipped()),
        "limits.stored_count_text": lambda: limits.stored_count_text(skipped()),
        "limits.skipped_rows_text": lambda: limits.skipped_rows_text(skipped(), csv_in_dm=True),
        "limits.skipped_rows_list": lambda: limits.skipped_rows_list(parsed),
        "limits.too_few_good_text": lambda: limits.too_few_good_text(parsed, 20),
        "limits.skipped_csv": "a CSV file, every cell neutralised (tests/test_upload_skip.py)",
        "limits.skipped_csv_file_name": "a file name made of the dataset's id",
        "limits.skipped_csv_title": "a file's title: plain text",
    }
