"""TUNEBOT_DATASET_LIMITS overrides the backend's dataset limits (JSON, Limits' field names),
is checked at startup like every setting (one line naming it), and changes what an upload is
checked against; TUNEBOT_MAX_UPLOAD_MB caps what Slack carries below the backend's file limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import settings_problems
from bot.config import Settings
from bot.datasets.samples import tutorial_csv
from tests.helpers.slack import OWNER, running_stack, store_of, upload_file

MB = 1024 * 1024


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def problems(**values: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    return settings_problems(caught.value)


def test_an_override_changes_only_the_limits_it_names() -> None:
    limits = settings(TUNEBOT_DATASET_LIMITS='{"max_examples": 500000, "max_example_tokens": 65536}').limits(
        "vertex"
    )
    assert limits.max_examples == 500_000 and limits.max_example_tokens == 65_536
    assert limits.max_validation_examples == 5_000 and limits.conversations
    assert settings().limits("gemini").max_output_chars == 5_000


def test_an_unknown_limit_is_one_line_naming_the_setting_and_the_known_ones() -> None:
    [line] = problems(TUNEBOT_DATASET_LIMITS='{"max_rows": 5}')
    assert line.startswith('tunebot: TUNEBOT_DATASET_LIMITS={"max_rows": 5} is not valid; ')
    assert "; it has unknown limits max_rows; known: " in line and "max_examples" in line


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ('{"max_examples": "many"}', "max_examples must be a whole number of 0 or more, or null"),
        ('{"max_examples": -1}', "max_examples must be a whole number of 0 or more, or null"),
        ('{"max_validation_fraction": 1.5}', "max_validation_fraction must be a fraction above 0"),
        ("[1, 2]", "must be a JSON object"),
        ("{max_examples: 5}", "is not JSON"),
    ],
)
def test_a_bad_value_is_one_line_saying_what_is_wrong(value: str, said: str) -> None:
    [line] = problems(TUNEBOT_DATASET_LIMITS=value)
    assert line.startswith("tunebot: TUNEBOT_DATASET_LIMITS=") and said in line, line


def test_the_smaller_file_limit_wins_for_files_slack_carries() -> None:
    assert settings().limits("vertex").max_file_bytes == 64 * MB  # TUNEBOT_MAX_UPLOAD_MB's default
    assert settings().limits("vertex", slack_file=False).max_file_bytes == 1024 * MB
    assert settings(TUNEBOT_MAX_UPLOAD_MB="4096").limits("vertex").max_file_bytes == 1024 * MB
    assert settings(TUNEBOT_MAX_UPLOAD_MB="10").limits("gemini").max_file_bytes == 10 * MB
    lowered = settings(TUNEBOT_DATASET_LIMITS='{"max_file_bytes": 1048576}')
    assert lowered.limits("vertex").max_file_bytes == MB


async def test_an_override_is_what_uploads_are_checked_against(tmp_path: Path) -> None:
    overrides = {"TUNEBOT_DATASET_LIMITS": '{"max_examples": 14, "max_output_chars": null}'}
    with running_stack(tmp_path, settings=overrides) as stack:
        assert stack.runtime is not None and stack.runtime.ctx.limits.max_examples == 14
        answer = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())  # 15 examples
        assert "more than 14 examples, the most one dataset may hold" in answer.text, answer.text
        assert store_of(stack).datasets.count() == 0
        long_output = "input,output\n" + "".join(f"q{n},{'y' * 6_000}\n" for n in range(12))
        stored = await upload_file(stack, OWNER, "long.csv", long_output.encode())
        assert "Stored dataset *long*: 12 examples" in stored.text, stored.text
