"""The Slack flow end to end against the emulator's Vertex AI surface (TUNEBOT_BACKEND=vertex):
what users type is the same as with the Gemini API backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.datasets.samples import tutorial_csv
from standins.fakeslack import Ephemeral
from standins.offline import OFFLINE_VERTEX_BUCKET, OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    buttons,
    command,
    ephemerals_for,
    eventually,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def test_upload_start_progress_notice_try_and_delete_on_vertex(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.sender is not None and stack.emulator is not None and stack.runtime is not None
    assert stack.runtime.ctx.backend.name == "vertex"
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    sent = await stack.sender.slash_command(OWNER, 'start tutorial name="Number generator" epochs=5')
    assert "Starting tuning on dataset `tutorial`" in ack_body(sent)["text"]
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    assert job.backend == "vertex" and job.base_model == "gemini-2.5-flash"
    assert job.model_name and "/tuningJobs/" in job.model_name and job.operation_name == job.model_name
    vertex = stack.emulator.emulator.vertex
    uploaded = [key for key in vertex.state.objects if key[0] == OFFLINE_VERTEX_BUCKET]
    assert len(uploaded) == 1 and uploaded[0][1].endswith(".jsonl")

    stack.emulator.advance(2)
    await stack.poll(all_due=True)
    running = store.jobs.get(job.id or 0)
    assert running is not None and running.state == "running"

    stack.emulator.emulator.finish_all()
    report = await stack.poll(all_due=True)
    assert report.notices == 1
    done = store.jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded"
    thread = stack.workspace.thread(CHANNEL, job.message_ts or "")
    notices = [m for m in thread if m.metadata and m.ts != job.message_ts]
    assert len(notices) == 1 and "is ready" in all_text(notices[0])
    assert [b["value"] for b in buttons(notices[0])] == [job.model_name]

    # /tune try with the job's number: the emulated endpoint answers from the training data.
    job_number = job.model_name.rsplit("/", 1)[1]
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"try {job_number} 55")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert answers() == ["56"]

    # /tune list shows it; /tune delete (owner, confirmed) removes every endpoint and the model.
    listing = await command(stack, OWNER, "list")
    assert "Number generator" in (listing if isinstance(listing, str) else all_text(listing))
    prompt_msg = await command(stack, OWNER, f"delete {job_number}")
    assert isinstance(prompt_msg, Ephemeral)
    [delete] = buttons(prompt_msg)
    await stack.sender.block_action(
        OWNER,
        delete["action_id"],
        delete["value"],
        CHANNEL,
        message_ts=prompt_msg.message_ts,
        is_ephemeral=True,
    )
    await wait_for(stack, lambda: "Deleted" in prompt_msg.text)
    by_method = stack.emulator.emulator.stats()["by_method"]
    # 5 epochs: the job's endpoint (the last checkpoint's) and 4 checkpoint endpoints, then the model
    assert by_method["vertex.endpoints.delete"] == 5 and by_method["vertex.models.delete"] == 1
    assert stack.emulator.emulator.vertex.live_endpoints(int(job_number)) == []
    owner = store.ownership.get(job.model_name)
    assert owner is not None and owner.deleted_by == OWNER


async def test_start_offers_the_vertex_base_models(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    views_before = len(stack.workspace.views(OWNER))
    await stack.sender.slash_command(OWNER, "start")
    view = await wait_for(
        stack, lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(OWNER))
    )
    text = str(view.view if hasattr(view, "view") else view)
    assert "gemini-2.5-flash" in text and "gemini-2.5-flash-lite" in text
    refusal = await command(stack, OWNER, "start tutorial base_model=models/gemini-1.5-flash-001-tuning")
    refusal_text = refusal if isinstance(refusal, str) else all_text(refusal)
    assert "cannot be tuned here" in refusal_text and "gemini-2.5-flash" in refusal_text


async def test_a_vertex_refusal_is_shown_in_plain_words(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    stack.emulator.emulator.update_faults(
        {
            "scripted": [
                {
                    "code": 403,
                    "times": 1,
                    "method": "storage.objects.insert",
                    "message": "Bucket access denied",
                }
            ]
        }
    )
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    await stack.sender.slash_command(OWNER, "start tutorial")
    shown = all_text(await next_ephemeral(stack, OWNER, seen))
    assert "refused to start" in shown and f"may not write to gs://{OFFLINE_VERTEX_BUCKET}" in shown
    assert store_of(stack).jobs.active() == []
