"""A team leaving OpenAI brings its chat file as it is (issue #20): uploaded through Slack's
upload form, it is stored as conversations with their system instruction; on Vertex AI the
job's training file carries that instruction and every turn, and a try thread of the tuned
model sends the instruction with each reply. On the Gemini API the same upload is stored, and
`/tune start` refuses it, naming the backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.storage.models import Dataset
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    ephemerals_for,
    eventually,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)

# OpenAI's documented example, as it is (openai/openai-node examples/fine-tuning-data.jsonl:
# the "Marv" lines of OpenAI's fine-tuning guide): tests/test_dataset_formats.py reads it too.
MARV_FILE = Path(__file__).parent / "data" / "formats" / "openai_fine_tuning_data.jsonl"
MARV = "Marv is a factual chatbot that is also sarcastic."


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


@pytest.fixture
def gemini_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="gemini") as running:
        yield running


def stored(stack: OfflineStack, name: str) -> Dataset:
    dataset = store_of(stack).datasets.by_name(stack.workspace.team_id, name)
    assert dataset is not None
    return dataset


async def private_answer(stack: OfflineStack, text: str) -> str:
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    body = ack_body(await stack.sender.slash_command(OWNER, text))
    if body.get("text") and not str(body["text"]).startswith(":hourglass:"):
        return str(body["text"])
    return (await next_ephemeral(stack, OWNER, seen)).text


async def test_an_openai_chat_file_tunes_on_vertex_with_its_system_instruction(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    assert stack.sender is not None and stack.emulator is not None
    answer = await upload_file(stack, OWNER, "marv.jsonl", MARV_FILE.read_bytes())
    assert "Stored dataset *marv*: 10 examples from `marv.jsonl` (OpenAI chat format)" in answer.text, (
        answer.text
    )
    assert "With a system instruction: 10 of 10 examples" in answer.text, answer.text
    dataset = stored(stack, "marv")
    assert (dataset.example_count, dataset.system_count, dataset.system_instruction) == (10, 10, MARV)

    await stack.sender.slash_command(OWNER, "start marv epochs=2")
    job = await eventually(
        lambda: next(
            (j for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) if j.message_ts),
            None,
        )
    )
    [emulated] = stack.emulator.emulator.vertex.state.jobs.values()
    bucket, _, name = emulated.dataset_uri.removeprefix("gs://").partition("/")
    sent = stack.emulator.emulator.vertex.object(bucket, name)
    assert sent is not None
    first = json.loads(sent.decode().splitlines()[0])
    assert first == {
        "systemInstruction": {"role": "system", "parts": [{"text": MARV}]},
        "contents": [
            {"role": "user", "parts": [{"text": "What's the capital of France?"}]},
            {"role": "model", "parts": [{"text": "Paris, as if everyone doesn't know that already."}]},
        ],
    }

    stack.emulator.emulator.finish_all()
    for _ in range(3):  # (the start may still hold the job's lease for the first cycle)
        await stack.poll(all_due=True)
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded", done and done.error_message

    number = (done.model_name or "").rsplit("/", 1)[1]
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OWNER, f"try {number} What's the capital of France?")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    assert "from dataset *marv*" in prompt.text and MARV in prompt.text, prompt.text

    def answered() -> str | None:
        replies = [all_text(m) for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]
        return replies[-1] if replies and "thinking" not in replies[-1] else None

    assert await wait_for(stack, answered) == "Paris, as if everyone doesn't know that already."
    body = stack.emulator.emulator.vertex.generate_requests[-1]
    assert body["systemInstruction"]["parts"] == [{"text": MARV}]


async def test_the_gemini_api_stores_the_file_and_refuses_to_start_it(gemini_stack: OfflineStack) -> None:
    stack = gemini_stack
    answer = await upload_file(stack, OWNER, "marv.jsonl", MARV_FILE.read_bytes())
    assert "Stored dataset *marv*" in answer.text, answer.text
    text = await private_answer(stack, "start marv")
    assert "The Gemini API (legacy tuning service) tunes on input/output pairs only" in text, text
    assert "dataset *marv* has a system instruction in 10 examples" in text, text
    assert store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) == []
