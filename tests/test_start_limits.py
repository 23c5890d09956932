"""`/tune start` against the dataset limits (issue #20, item 3): the Gemini API refuses system
instructions and multi-turn examples, naming itself; a base model's tokens per example (the
catalog's, overridable) and Vertex AI's validation-set limits are checked at their boundaries,
privately, before anything is created."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.datasets.core import shape_of
from bot.datasets.limits import GEMINI_LIMITS, VERTEX_LIMITS
from bot.domain.requests import ValidationChoice
from bot.domain.types import TrainingExample
from bot.services.limits import (
    ValidationTooLarge,
    check_validation_size,
    largest_percent,
    split_count,
    validation_allowed,
)
from bot.storage.models import Dataset
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    ack_body,
    ephemerals_for,
    eventually,
    next_ephemeral,
    open_start_form,
    running_stack,
    store_of,
)

PAIRS = [TrainingExample(f"question {n}", f"answer {n}") for n in range(12)]
SYSTEM = [TrainingExample(f"question {n}", f"answer {n}", system="Answer briefly.") for n in range(12)]
MULTI_TURN = [
    TrainingExample(f"and {n}?", f"then {n}", history=(f"hello {n}", f"hi {n}")) for n in range(3)
] + PAIRS[3:]


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def add_dataset(stack: OfflineStack, name: str, examples: list[TrainingExample]) -> Dataset:
    """A stored dataset, as an upload of any format would store it."""
    return store_of(stack).datasets.add(
        team_id=stack.workspace.team_id,
        owner_user_id=OWNER,
        channel_id=CHANNEL,
        name=name,
        file_name=f"{name}.jsonl",
        format="jsonl",
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        examples=examples,
        shape=shape_of(examples),
    )


def numbered(count: int, prefix: str = "q") -> list[TrainingExample]:
    return [TrainingExample(f"{prefix} {n}", f"a {n}") for n in range(count)]


async def answer_to(stack: OfflineStack, text: str) -> str:
    """What the user sees for `/tune <text>`: the ack's text, or the private answer after it."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    sent = await stack.sender.slash_command(OWNER, text)
    body = ack_body(sent)
    if body.get("text"):
        assert body.get("response_type", "ephemeral") == "ephemeral", body
        return str(body["text"])
    return (await next_ephemeral(stack, OWNER, seen)).text


def no_jobs(stack: OfflineStack) -> bool:
    return store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) == []


# ---- the Gemini API: input/output pairs only -------------------------------------------------


async def test_the_gemini_api_refuses_a_dataset_with_a_system_instruction(stack: OfflineStack) -> None:
    add_dataset(stack, "briefly", SYSTEM)
    text = await answer_to(stack, "start briefly")
    assert "The Gemini API (legacy tuning service) tunes on input/output pairs only" in text, text
    assert "dataset *briefly* has a system instruction in 12 examples" in text, text
    assert "TUNEBOT_BACKEND=vertex" in text and "Nothing was started" in text, text
    assert no_jobs(stack)


async def test_the_gemini_api_refuses_a_dataset_with_multi_turn_examples(stack: OfflineStack) -> None:
    add_dataset(stack, "chats", MULTI_TURN)
    text = await answer_to(stack, "start chats")
    assert "tunes on input/output pairs only: dataset *chats* has 3 multi-turn examples." in text, text
    assert no_jobs(stack)


async def test_the_gemini_start_form_refuses_it_privately_too(stack: OfflineStack) -> None:
    add_dataset(stack, "chats", MULTI_TURN)
    view = await open_start_form(stack, OWNER)
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    fields = {"dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "chats"}}}}
    await stack.sender.view_submission(OWNER, view, fields)
    refusal: Ephemeral = await next_ephemeral(stack, OWNER, seen)
    assert "the Gemini API (legacy tuning service)" in refusal.text.replace("The Gemini", "the Gemini")
    assert "3 multi-turn examples" in refusal.text, refusal.text
    assert no_jobs(stack)


async def test_the_gemini_api_still_takes_pairs(stack: OfflineStack) -> None:
    add_dataset(stack, "pairs", PAIRS)
    text = await answer_to(stack, "start pairs")
    assert "Starting tuning on dataset `pairs`" in text, text
    await eventually(lambda: not no_jobs(stack) or None)


async def test_vertex_takes_system_instructions_and_conversations(vertex_stack: OfflineStack) -> None:
    add_dataset(vertex_stack, "chats", [*MULTI_TURN[:3], *SYSTEM[3:]])
    text = await answer_to(vertex_stack, "start chats")
    assert "Starting tuning on dataset `chats`" in text, text


# ---- tokens per example, per base model ------------------------------------------------------


@pytest.fixture
def small_model_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    """Vertex AI with a catalog (VERTEX_BASE_MODELS) whose model takes 100 tokens an example."""
    catalog = '[{"name": "gemini-2.5-flash", "label": "Gemini 2.5 Flash", "max_example_tokens": 100}]'
    with running_stack(tmp_path, backend="vertex", settings={"VERTEX_BASE_MODELS": catalog}) as running:
        yield running


def of_tokens(tokens: int) -> list[TrainingExample]:
    """Pairs whose largest is `tokens` tokens as estimated (4 ASCII bytes a token)."""
    longest = TrainingExample("x" * (4 * (tokens - 1)), "abcd")
    return [longest, *PAIRS[1:]]


async def test_an_example_over_the_base_models_tokens_is_refused_naming_model_and_limit(
    small_model_stack: OfflineStack,
) -> None:
    add_dataset(small_model_stack, "at-limit", of_tokens(100))
    add_dataset(small_model_stack, "over-limit", of_tokens(101))
    text = await answer_to(small_model_stack, "start over-limit")
    assert "Dataset *over-limit* has an example of about 101 tokens" in text, text
    assert "`gemini-2.5-flash` takes at most 100 tokens per example" in text, text
    assert "The count is an estimate" in text, text
    assert no_jobs(small_model_stack)
    held = await answer_to(small_model_stack, "start at-limit validation=over-limit")
    assert "Dataset *over-limit* has an example of about 101 tokens" in held, held
    assert no_jobs(small_model_stack)
    at = await answer_to(small_model_stack, "start at-limit")
    assert "Starting tuning on dataset `at-limit`" in at, at


def test_every_catalog_model_takes_131072_tokens_an_example() -> None:
    from bot.backends.vertex_models import DEFAULT_VERTEX_MODELS

    assert {m.max_example_tokens for m in DEFAULT_VERTEX_MODELS} == {131_072}


# ---- Vertex AI's validation-set limits -------------------------------------------------------


def dataset_of(count: int, name: str = "training") -> Dataset:
    return Dataset(
        team_id="T", owner_user_id=OWNER, name=name, display_name=name, file_name=f"{name}.csv",
        format="csv", example_count=count, sha256=name,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("validation", "training", "allowed"),
    [
        (1_000, 2_000, True),  # 1,000 or fewer: no share limit
        (1_001, 2_000, False),  # over 1,000 and over 30 % of 2,000
        (3_000, 10_000, True),  # exactly 30 %
        (3_001, 10_000, False),
        (5_000, 20_000, True),  # exactly 5,000
        (5_001, 20_000, False),
    ],
)
def test_vertex_validation_limits_at_their_boundaries(validation: int, training: int, allowed: bool) -> None:
    assert validation_allowed(VERTEX_LIMITS, validation, training) is allowed
    choice = ValidationChoice(dataset="held")
    if allowed:
        check_validation_size(VERTEX_LIMITS, choice, dataset_of(training), dataset_of(validation, "held"))
    else:
        with pytest.raises(ValidationTooLarge):
            check_validation_size(VERTEX_LIMITS, choice, dataset_of(training), dataset_of(validation, "held"))


def test_the_gemini_api_has_no_validation_limit() -> None:
    check_validation_size(GEMINI_LIMITS, ValidationChoice(percent=50), dataset_of(1_000_000), None)


def test_a_share_at_and_one_over_5000() -> None:
    assert split_count(50_000, 10) == 5_000
    check_validation_size(VERTEX_LIMITS, ValidationChoice(percent=10), dataset_of(50_000), None)
    with pytest.raises(ValidationTooLarge) as refused:
        check_validation_size(VERTEX_LIMITS, ValidationChoice(percent=10), dataset_of(50_010), None)
    assert refused.value.validation_count == 5_001 and refused.value.percent == 9.9
    assert split_count(50_010, 9.9) <= 5_000


def test_the_largest_share_that_fits() -> None:
    assert largest_percent(VERTEX_LIMITS, 4_000) == 25  # 1,000 held out: the most below 30 % of 3,000
    assert largest_percent(VERTEX_LIMITS, 200) == 50  # small sets: any share the command takes
    assert largest_percent(VERTEX_LIMITS, 600_000) is None  # 1 % is 6,000


async def test_a_share_over_vertexs_limit_is_refused_with_the_share_that_fits(
    vertex_stack: OfflineStack,
) -> None:
    add_dataset(vertex_stack, "four-k", numbered(4_000))
    text = await answer_to(vertex_stack, "start four-k validation=30%")
    assert "`validation=30%` would hold out 1,200 of the 4,000 examples" in text, text
    assert "Vertex AI takes more than 1,000 validation examples only up to 30% of the training" in text
    assert "Use `validation=25%` (1,000 examples) or less" in text, text
    assert no_jobs(vertex_stack)


async def test_a_validation_dataset_over_vertexs_limit_is_refused_with_the_numbers(
    vertex_stack: OfflineStack,
) -> None:
    add_dataset(vertex_stack, "two-k", numbered(2_000))
    add_dataset(vertex_stack, "held", numbered(1_001, "held"))
    text = await answer_to(vertex_stack, "start two-k validation=held")
    assert "Validation dataset *held* has 1,001 examples" in text, text
    assert "a validation dataset of at most 1,000 examples" in text, text
    assert no_jobs(vertex_stack)
