"""`/tune start <dataset> from=<model> [checkpoint=N]`: tuning further from a tuned model (Vertex
AI's `preTunedModel`), through the fake Slack against the emulator's Vertex AI surface."""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.genai import types

from bot.datasets.samples import tutorial_csv
from bot.presentation.jobs import CHECKPOINT_NEEDS_MODEL_TEXT
from bot.storage.models import TuningJob
from bot.vertex import VertexAPIError
from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, start_emulator
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    ack_body,
    all_text,
    command,
    ephemerals_for,
    eventually,
    next_ephemeral,
    open_start_form,
    running_stack,
    store_of,
    upload_file,
)
from tests.test_emulator_official_genai import BUCKET, DATASET, jsonl, vertex_client

# A second dataset that the tutorial (numbers) knows nothing of: words to their plurals.
WORDS = [
    ("cat", "cats"),
    ("dog", "dogs"),
    ("fox", "foxes"),
    ("bus", "buses"),
    ("box", "boxes"),
    ("city", "cities"),
    ("baby", "babies"),
    ("leaf", "leaves"),
    ("wolf", "wolves"),
    ("mouse", "mice"),
    ("goose", "geese"),
    ("child", "children"),
]


def words_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text_input", "output"])
    writer.writerows(WORDS)
    return out.getvalue().encode()


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def start(stack: OfflineStack, text: str) -> TuningJob:
    """`/tune start …` by OWNER; the job once its message is posted."""
    assert stack.sender is not None
    store = store_of(stack)
    known = {j.id for j in store.jobs.team_models(stack.workspace.team_id)}
    sent = await stack.sender.slash_command(OWNER, text)
    assert "Starting tuning" in ack_body(sent).get("text", ""), ack_body(sent)
    return await eventually(
        lambda: next(
            (
                j
                for j in store.jobs.team_models(stack.workspace.team_id)
                if j.id not in known and j.message_ts and j.lease_owner is None
            ),
            None,
        )
    )


async def finish(stack: OfflineStack, job: TuningJob) -> TuningJob:
    assert stack.emulator is not None
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded", done
    return done


async def refusal_after_ack(stack: OfflineStack, text: str) -> str:
    """What OWNER is told of a start refused after its ack (a check that asks the service)."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    sent = await stack.sender.slash_command(OWNER, text)
    body = ack_body(sent).get("text", "")
    if "Starting tuning" not in body:
        return str(body)
    return all_text(await next_ephemeral(stack, OWNER, seen))


def job_message(stack: OfflineStack, job: TuningJob) -> str:
    [message] = [m for m in stack.workspace.messages(CHANNEL) if m.ts == job.message_ts]
    return all_text(message)


async def parent_model(stack: OfflineStack) -> TuningJob:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await upload_file(stack, OWNER, "words.csv", words_csv())
    return await finish(stack, await start(stack, 'start tutorial name="support-v1" epochs=3'))


async def test_continuing_from_a_model_sends_pre_tuned_model_and_shows_the_lineage(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    parent = await parent_model(stack)
    parent_job = vertex.state.jobs[int((parent.model_name or "").rsplit("/", 1)[1])]

    child = await start(stack, 'start words name="support-v2" from=support-v1')

    body = vertex.create_requests[-1]
    assert body["preTunedModel"] == {"tunedModelName": f"{parent_job.model}@1"}
    assert "baseModel" not in body  # one oneof: the base model is the parent's
    assert (child.parent_model, child.parent_checkpoint, child.parent_name) == (
        parent.model_name,
        None,
        "support-v1",
    )
    assert child.base_model == parent.base_model == "gemini-2.5-flash"
    assert "from support-v1" in job_message(stack, child)
    child = await finish(stack, child)
    assert "from support-v1" in job_message(stack, child)

    listing = await command(stack, OWNER, "list")
    assert isinstance(listing, Ephemeral)
    assert "from support-v1" in all_text(listing)


async def test_continuing_from_a_checkpoint_sends_its_id(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    parent = await parent_model(stack)
    number = (parent.model_name or "").rsplit("/", 1)[1]

    child = await start(stack, f'start words name="support-v2" from={number} checkpoint=2')

    body = vertex.create_requests[-1]
    assert body["preTunedModel"]["checkpointId"] == "2"
    assert body["preTunedModel"]["tunedModelName"].endswith("@1")
    assert (child.parent_model, child.parent_checkpoint) == (parent.model_name, "2")
    assert "from support-v1, checkpoint 2" in job_message(stack, child)
    await finish(stack, child)
    listing = await command(stack, OWNER, "list")
    assert isinstance(listing, Ephemeral)
    assert "from support-v1, checkpoint 2" in all_text(listing)


async def test_a_continued_model_answers_better_than_its_parent(vertex_stack: OfflineStack) -> None:
    """The emulated model of a continued job knows its parent's examples and its own: on data
    drawn from both datasets it ranks above its parent, and it keeps what the parent knew."""
    stack = vertex_stack
    assert stack.runtime is not None
    parent = await parent_model(stack)
    child = await finish(stack, await start(stack, 'start words name="support-v2" from=support-v1'))
    backend = stack.runtime.ctx.backend

    async def exact(model_name: str, pairs: list[tuple[str, str]]) -> int:
        answers = [await stack.arun(backend.generate(model_name, prompt)) for prompt, _ in pairs]
        return sum(answer == expected for answer, (_, expected) in zip(answers, pairs, strict=True))

    numbers = [("12", "13"), ("30", "31")]
    mixed = WORDS[:4] + numbers
    assert parent.model_name and child.model_name
    parent_score, child_score = await exact(parent.model_name, mixed), await exact(child.model_name, mixed)
    assert child_score == len(mixed) and parent_score == len(numbers)
    assert child_score > parent_score


async def test_refusals_name_what_is_wrong(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await parent_model(stack)
    creates = len(vertex.create_requests)

    unknown = await refusal_after_ack(stack, "start words from=nosuchmodel")
    assert "There is no tuned model *nosuchmodel*" in unknown

    missing = await refusal_after_ack(stack, "start words from=support-v1 checkpoint=9")
    assert "has no checkpoint 9" in missing and "1 (epoch 1), 2 (epoch 2), 3 (epoch 3)" in missing

    bad_checkpoint = await command(stack, OWNER, "start words from=support-v1 checkpoint=two")
    assert isinstance(bad_checkpoint, str) and "`checkpoint` must be a checkpoint's number" in bad_checkpoint

    alone = await command(stack, OWNER, "start words checkpoint=2")
    assert isinstance(alone, str) and "give the model too" in alone

    other_base = await command(stack, OWNER, "start words from=support-v1 base_model=gemini-2.5-pro")
    assert isinstance(other_base, str) and "was tuned from `gemini-2.5-flash`" in other_base

    still_tuning = await start(stack, 'start tutorial name="support-v3" epochs=2')
    not_ready = await command(stack, OWNER, "start words from=support-v3")
    assert isinstance(not_ready, str) and "*support-v3* is still tuning" in not_ready
    assert still_tuning.state in ("queued", "running")
    assert len(vertex.create_requests) == creates + 1  # only support-v3's: no refused continue was sent


async def test_the_emulator_refuses_a_parent_that_is_not_ready_as_vertex_does(
    vertex_stack: OfflineStack,
) -> None:
    """Sent straight to the emulated API (tunebot checks first): 400 INVALID_ARGUMENT naming why."""
    stack = vertex_stack
    assert stack.emulator is not None and stack.runtime is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    running = await start(stack, 'start tutorial name="support-v1" epochs=2')
    vertex = stack.emulator.emulator.vertex
    job = vertex.state.jobs[int((running.model_name or "").rsplit("/", 1)[1])]
    client = stack.runtime.ctx.backend.client  # type: ignore[attr-defined]
    uri = vertex.create_requests[-1]["supervisedTuningSpec"]["trainingDatasetUri"]

    with pytest.raises(VertexAPIError) as not_ready:
        await stack.arun(
            client.create_tuning_job(
                base_model=None, training_uri=uri, display_name="x", pre_tuned_model=job.model
            )
        )
    assert not_ready.value.code == 400 and "is not ready for tuning" in not_ready.value.message
    with pytest.raises(VertexAPIError) as unknown:
        await stack.arun(
            client.create_tuning_job(
                base_model=None, training_uri=uri, display_name="x", pre_tuned_model=job.model + "9"
            )
        )
    assert unknown.value.code == 400 and "does not exist" in unknown.value.message
    stack.emulator.emulator.finish_all()
    with pytest.raises(VertexAPIError) as checkpoint:
        await stack.arun(
            client.create_tuning_job(
                base_model=None,
                training_uri=uri,
                display_name="x",
                pre_tuned_model=job.model,
                pre_tuned_checkpoint="7",
            )
        )
    assert checkpoint.value.code == 400 and "Checkpoint 7 does not exist" in checkpoint.value.message


async def test_the_gemini_api_backend_refuses_continuing_naming_itself(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        refused = await command(stack, OWNER, "start tutorial from=anything checkpoint=1")
        assert isinstance(refused, str)
        assert "the Gemini API (legacy)" in refused and "cannot continue tuning" in refused
        assert "only Vertex AI can" in refused


async def test_the_start_form_continues_from_a_model_too(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.sender is not None and stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await parent_model(stack)
    store = store_of(stack)

    view = await open_start_form(stack, OWNER)
    block_ids = [b.get("block_id") for b in view.blocks]
    assert "from" in block_ids and "checkpoint" in block_ids
    base = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "words"}}},
        "base_model": {
            "base_model": {"type": "static_select", "selected_option": {"value": "gemini-2.5-pro"}}
        },
    }
    alone = await stack.sender.view_submission(OWNER, view, base | {"checkpoint": {"checkpoint": "2"}})
    assert alone.json()["errors"] == {"checkpoint": CHECKPOINT_NEEDS_MODEL_TEXT}

    view = await open_start_form(stack, OWNER)
    fields = base | {
        "from": {"from": "support-v1"},
        "checkpoint": {"checkpoint": "2"},
        "name": {"name": "v2"},
    }
    submitted = await stack.sender.view_submission(OWNER, view, fields)
    assert submitted.status_code == 200
    child = await eventually(
        lambda: next(
            (
                j
                for j in store.jobs.team_models(stack.workspace.team_id)
                if j.display_name == "v2" and j.message_ts and j.lease_owner is None
            ),
            None,
        )
    )
    assert (child.parent_name, child.parent_checkpoint, child.base_model) == (
        "support-v1",
        "2",
        "gemini-2.5-flash",
    )
    assert vertex.create_requests[-1]["preTunedModel"]["checkpointId"] == "2"


@pytest.mark.usefixtures("offline_google")
def test_the_emulator_takes_continued_tuning_as_google_genai_sends_it() -> None:
    """google-genai's `tunings.tune(base_model=<a tuned model>)` sends `preTunedModel` as
    tunebot does (top level, in `baseModel`'s place, `checkpointId` from the config)."""
    with start_emulator(EmulatorConfig(clock=FrozenClock(), step_seconds=1.0)) as emulator:
        emulator.emulator.storage.insert(
            BUCKET, "numbers.jsonl", jsonl([(str(n), str(n + 1)) for n in range(20)])
        )
        client = vertex_client(emulator, None)
        dataset = types.TuningDataset(gcs_uri=DATASET)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "the SDK's tuning implementation is experimental"
            parent = client.tunings.tune(
                base_model="gemini-2.5-flash",
                training_dataset=dataset,
                config=types.CreateTuningJobConfig(epoch_count=3),
            )
            emulator.emulator.finish_all()
            parent = client.tunings.get(name=parent.name or "")
            assert parent.tuned_model is not None and parent.tuned_model.model
            child = client.tunings.tune(
                base_model=parent.tuned_model.model,
                training_dataset=dataset,
                config=types.CreateTuningJobConfig(pre_tuned_model_checkpoint_id="2"),
            )
        sent = emulator.emulator.vertex.create_requests[-1]
        # The SDK writes the message's own fields in snake_case (proto JSON takes either spelling).
        assert sent["preTunedModel"] == {"tuned_model_name": parent.tuned_model.model, "checkpoint_id": "2"}
        assert "baseModel" not in sent
        assert child.pre_tuned_model is not None
        assert child.pre_tuned_model.base_model == "gemini-2.5-flash"
        assert child.pre_tuned_model.checkpoint_id == "2"
