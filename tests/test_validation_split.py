"""Validation split (`/tune start … validation=10%` or `validation=<dataset>`): the held-out
examples are never trained on, are remembered per job, and reach Vertex AI as a second
JSONL (`validationDatasetUri`); the Gemini API backend keeps them and says no eval loss
will be reported."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.datasets.holdout import HoldoutError, separate_set, split_share
from bot.datasets.samples import TUTORIAL_EXAMPLES, tutorial_csv
from bot.domain.errors import UsageError
from bot.domain.types import TrainingExample
from bot.slack.commands import ValidationChoice, parse_start, parse_validation
from standins.offline import OFFLINE_VERTEX_BUCKET, OfflineStack
from tests.helpers.slack import (
    OWNER,
    all_text,
    bot_posts,
    command,
    ephemerals_for,
    eventually,
    next_ephemeral,
    open_start_form,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)

PAIRS = [TrainingExample(str(n), str(n + 1)) for n in range(40)]
TUTORIAL = [TrainingExample(e.text_input, e.output) for e in TUTORIAL_EXAMPLES]


def test_validation_option_takes_a_share_or_a_dataset_name() -> None:
    assert parse_start("sales validation=10%").validation == ValidationChoice(percent=10.0)
    assert parse_start("sales validation=held-out").validation == ValidationChoice(dataset="held-out")
    assert parse_start("sales").validation is None
    assert parse_validation("none") is None and parse_validation("0%") is None
    with pytest.raises(UsageError, match="between 1% and 50%"):
        parse_validation("60%")
    with pytest.raises(UsageError, match="percent sign"):
        parse_validation("10")
    with pytest.raises(UsageError, match="share such as `10%`"):
        parse_validation("ten%")


def test_a_share_is_held_out_reproducibly_and_never_trained_on() -> None:
    first = split_share(PAIRS, 10, seed="job-a")
    assert len(first.validation) == 4 and len(first.training) == 36
    assert not set(first.validation) & set(first.training)
    assert sorted(first.training + first.validation, key=PAIRS.index) == PAIRS
    assert first.training == [p for p in PAIRS if p in first.training]  # upload order kept
    assert split_share(PAIRS, 10, seed="job-a") == first
    assert split_share(PAIRS, 10, seed="job-b").validation != first.validation
    # at least one held out, at least one left to train on, at most the limit
    assert len(split_share(PAIRS[:3], 1, seed="s").validation) == 1
    assert len(split_share(PAIRS[:2], 50, seed="s").training) == 1
    assert len(split_share(PAIRS, 50, seed="s", limit=5).validation) == 5
    with pytest.raises(HoldoutError, match="at least 2"):
        split_share(PAIRS[:1], 10, seed="s")


def test_a_separate_validation_dataset_is_taken_out_of_training() -> None:
    held = separate_set(PAIRS, [*PAIRS[:5], TrainingExample("new", "one")], validation_name="v")
    assert held.overlap_removed == 5 and held.training == PAIRS[5:]
    assert len(held.validation) == 6
    with pytest.raises(HoldoutError, match="at most 3"):
        separate_set(PAIRS, PAIRS[:4], validation_name="v", limit=3)
    with pytest.raises(HoldoutError, match="nothing would be left"):
        separate_set(PAIRS[:2], PAIRS[:2], validation_name="v")


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


@pytest.fixture
def gemini_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="gemini") as running:
        yield running


def _jsonl_pairs(data: bytes) -> list[TrainingExample]:
    pairs = []
    for line in data.decode().splitlines():
        turns = {c["role"]: c["parts"][0]["text"] for c in json.loads(line)["contents"]}
        pairs.append(TrainingExample(turns["user"], turns["model"]))
    return pairs


async def _start(stack: OfflineStack, text: str) -> str:
    """`/tune start …`; returns every ephemeral the owner got once the job message is up."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    await stack.sender.slash_command(OWNER, f"start {text}")
    note = await next_ephemeral(stack, OWNER, seen)
    return all_text(note)


async def test_vertex_gets_the_held_out_share_as_a_second_jsonl(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None and stack.runtime is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    note = await _start(stack, "tutorial validation=20%")
    assert "Held out *3 examples* (20% of the dataset) as the validation set" in note
    assert "eval loss" in note
    store = store_of(stack)
    job = await eventually(lambda: next((j for j in store.jobs.active() if j.message_ts), None))
    assert job.id is not None

    vertex = stack.emulator.emulator.vertex
    objects = {
        name: data for (bucket, name), data in vertex.state.objects.items() if bucket == OFFLINE_VERTEX_BUCKET
    }
    [training_name] = [n for n in objects if not n.endswith("-validation.jsonl")]
    [validation_name] = [n for n in objects if n.endswith("-validation.jsonl")]
    trained, validated = _jsonl_pairs(objects[training_name]), _jsonl_pairs(objects[validation_name])
    assert len(trained) == 12 and len(validated) == 3 and not set(trained) & set(validated)
    assert set(trained) | set(validated) == set(TUTORIAL)

    # remembered per job, for evaluation later
    assert store.evaluations.held_out_examples(job.id) == validated
    holdout = store.evaluations.holdout(job.id)
    assert (
        holdout is not None
        and holdout.sent
        and holdout.uri == f"gs://{OFFLINE_VERTEX_BUCKET}/{validation_name}"
    )

    # Vertex was told: the job (read back over HTTP as a client would) names both files.
    settings = stack.runtime.ctx.settings
    async with httpx.AsyncClient(base_url=settings.resolved_vertex_api_base) as http:
        answer = await http.get(f"/v1/{job.operation_name}", headers={"authorization": "Bearer t"})
    spec = answer.json()["supervisedTuningSpec"]
    assert spec["trainingDatasetUri"] == f"gs://{OFFLINE_VERTEX_BUCKET}/{training_name}"
    assert spec["validationDatasetUri"] == holdout.uri
    assert answer.json()["tuningDataStats"]["supervisedTuningDataStats"]["tuningDatasetExampleCount"] == "12"


async def test_gemini_keeps_the_share_and_says_no_eval_loss(gemini_stack: OfflineStack) -> None:
    stack = gemini_stack
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    note = await _start(stack, "tutorial validation=10%")
    assert "Held out *2 examples* (10% of the dataset)" in note
    assert "no eval loss will be reported" in note and "not sent" in note
    store = store_of(stack)
    job = await eventually(lambda: next((j for j in store.jobs.active() if j.message_ts), None))
    assert job.id is not None
    held = store.evaluations.held_out_examples(job.id)
    assert len(held) == 2
    holdout = store.evaluations.holdout(job.id)
    assert holdout is not None and not holdout.sent and holdout.uri is None
    # only the other 13 were sent for training: the service counts ceil(13 × 5 epochs / batch 2) steps
    assert job.total_steps == 33
    assert set(held) <= set(TUTORIAL)


async def test_a_separate_dataset_as_the_validation_set(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    check = [TrainingExample("1", "2")] + [TrainingExample(str(n), str(n + 1)) for n in range(41, 50)]
    extra = ("text_input,output\n" + "".join(f"{p.text_input},{p.output}\n" for p in check)).encode()
    await upload_file(stack, OWNER, "check.csv", extra)
    refusal = await command(stack, OWNER, "start tutorial validation=nope")
    text = refusal if isinstance(refusal, str) else all_text(refusal)
    assert "Validation set: There is no dataset `nope`" in text
    same = await command(stack, OWNER, "start tutorial validation=tutorial")
    assert "must not be trained on" in (same if isinstance(same, str) else all_text(same))

    note = await _start(stack, "tutorial validation=check")
    assert "Using *10 examples* from dataset *check* as the validation set" in note
    store = store_of(stack)
    job = await eventually(lambda: next((j for j in store.jobs.active() if j.message_ts), None))
    assert job.id is not None
    held = store.evaluations.held_out_examples(job.id)
    assert held == check
    vertex = stack.emulator.emulator.vertex
    [training] = [d for (b, n), d in vertex.state.objects.items() if not n.endswith("-validation.jsonl")]
    trained = _jsonl_pairs(training)
    # "1" -> "2" is in both files' sources: it is validated on, never trained on
    assert TrainingExample("1", "2") not in trained and len(trained) == 14


async def test_the_start_form_takes_a_validation_set(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    view = await open_start_form(stack, OWNER)
    assert "validation" in [b.get("block_id") for b in view.payload["blocks"]]
    fields: dict[str, Any] = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "tutorial"}}},
        "epochs": {"epochs": "2"},
        "base_model": {
            "base_model": {"type": "static_select", "selected_option": {"value": "gemini-2.5-flash"}}
        },
    }
    for wrong, error in (("70%", "between 1% and 50%"), ("missing", "There is no dataset missing")):
        bad = await stack.sender.view_submission(OWNER, view, {**fields, "validation": {"validation": wrong}})
        assert bad.json()["response_action"] == "errors" and error in bad.json()["errors"]["validation"]
    seen = len(ephemerals_for(stack, OWNER))
    good = await stack.sender.view_submission(OWNER, view, {**fields, "validation": {"validation": "20%"}})
    assert good.status_code == 200 and not good.text.strip()
    note = await next_ephemeral(stack, OWNER, seen)
    assert "as the validation set" in all_text(note)
    await wait_for(stack, lambda: next(iter(bot_posts(stack)), None))
    job = store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)[0]
    assert job.id is not None and len(store_of(stack).evaluations.held_out_examples(job.id)) == 3
