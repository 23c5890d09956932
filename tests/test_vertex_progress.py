"""Vertex AI end to end over real HTTP (Slack stand-in, bot, emulator): live progress from
the job and its TensorBoard series within two API calls per job per cycle, the loss chart
with the eval loss, data stats and cost, checkpoints and `/tune try … checkpoint=N`, failures
in plain words, the quota, Gemini 3.x on the multi-region host, and a delete that leaves
nothing billable behind."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.domain.types import LossPoint
from bot.presentation.jobs import loss_chart_file_name
from bot.slack.reporter import EVALUATION_EVENT_TYPE, NOTICE_EVENT_TYPE
from bot.storage.models import TuningJob
from standins.fakeslack import Ephemeral, Message, StoredFile
from standins.offline import OFFLINE_VERTEX_BUCKET, OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
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

NUMBERS = ("text_input,output\n" + "".join(f"{n},{n + 1}\n" for n in range(1, 41))).encode()
PRICES = {"TUNEBOT_TRAINING_PRICES": "gemini-2.5-flash=2.5,gemini-3.5-flash=4"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex", settings=PRICES) as running:
        yield running


async def start(stack: OfflineStack, text: str) -> TuningJob:
    assert stack.sender is not None
    before = {j.id for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)}
    await stack.sender.slash_command(OWNER, f"start {text}")
    return await eventually(
        lambda: next(
            (
                j
                for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)
                if j.id not in before and j.message_ts and j.lease_owner is None
            ),
            None,
        )
    )


async def try_answers(stack: OfflineStack, text: str) -> list[str]:
    """`/tune try …` by OTHER; the model's answers in the thread it opens, once it answered."""
    assert stack.sender is not None
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"try {text}")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    return answers()


def job_message(stack: OfflineStack, job: TuningJob) -> Message:
    [message] = [m for m in bot_posts(stack) if m.ts == job.message_ts]
    return message


def thread_messages(stack: OfflineStack, job: TuningJob, event_type: str) -> list[Message]:
    thread = stack.workspace.thread(CHANNEL, job.message_ts or "")
    return [m for m in thread if (m.metadata or {}).get("event_type") == event_type]


def notices(stack: OfflineStack, job: TuningJob) -> list[Message]:
    return thread_messages(stack, job, NOTICE_EVENT_TYPE)


def chart_uploads(stack: OfflineStack, job: TuningJob) -> list[StoredFile]:
    return [f for f in stack.workspace.uploads(CHANNEL) if f.name == loss_chart_file_name(job.id)]


def vertex_calls(stack: OfflineStack) -> int:
    assert stack.emulator is not None
    by_method: dict[str, int] = stack.emulator.emulator.stats()["by_method"]
    return sum(count for kind, count in by_method.items() if kind.startswith("vertex."))


async def test_live_progress_loss_chart_stats_cost_and_checkpoints(stack: OfflineStack) -> None:
    assert stack.emulator is not None and stack.runtime is not None
    charts: list[tuple[Sequence[LossPoint], Sequence[LossPoint]]] = []
    drawn = stack.runtime.ctx.reporter.chart

    def chart(train: Sequence[LossPoint], title: str, evaluation: Sequence[LossPoint]) -> bytes:
        charts.append((train, evaluation))
        return drawn(train, title, evaluation)

    stack.runtime.ctx.reporter.chart = chart
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    # 40 examples, 8 held out: 32 to train on, 4 steps an epoch, 3 epochs = 12 steps
    job = await start(stack, "numbers epochs=3 validation=20%")
    assert "queued" in all_text(job_message(stack, job))
    store = store_of(stack)

    stack.emulator.advance(1.5)  # running, reading the dataset
    await stack.poll(all_due=True)
    text = all_text(job_message(stack, job))
    assert "preparing the dataset" in text.lower()
    assert "40 examples" not in text and "32 examples" in text  # the dataset as Vertex counted it
    assert "billable tokens" in text and "training tokens (× 3 epochs)" in text
    assert "counted cost *USD" in text and "at the configured USD 2.50 per 1M training tokens" in text

    stack.emulator.advance(5)  # 4 of 12 steps done
    await stack.poll(all_due=True)  # finds the series: job, context, runs, series list
    row = store.jobs.get(job.id or 0)
    assert row is not None and (row.completed_steps, row.total_steps, row.percent) == (4, 12, 33.33)
    text = all_text(job_message(stack, job))
    assert "step 4 / 12" in text and "33%" in text and "epoch 1 of 3" in text

    # From now on, two calls per job per cycle: the job and one TensorBoard call.
    for advance in (0, 1, 0, 2, 0, 0):
        stack.emulator.advance(advance)
        before = vertex_calls(stack)
        report = await stack.poll(all_due=True)
        assert report.polled == 1 and vertex_calls(stack) - before <= 2
    row = store.jobs.get(job.id or 0)
    assert row is not None and row.completed_steps == 7 and row.mean_loss is not None
    assert row.eval_loss is not None
    text = all_text(job_message(stack, job))
    assert "step 7 / 12" in text and "58%" in text and "epoch 2 of 3" in text
    assert "loss " in text and "eval loss " in text and " left" in text
    # points are never read for the message
    by_method = stack.emulator.emulator.stats()["by_method"]
    assert "vertex.tensorboards.batchRead" not in by_method
    assert "vertex.tensorboards.timeSeries.read" not in by_method

    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    [notice] = notices(stack, job)
    text = all_text(notice)
    assert "is ready" in text and "Checkpoints" in text and "checkpoint=N" in text
    for epoch, step in ((1, 4), (2, 8), (3, 12)):
        assert f"checkpoint `{epoch}`: epoch {epoch}, step {step}, eval loss " in text
    assert "training tokens" in text
    # the chart: training and eval loss, posted once with the notice
    [(train, evaluation)] = charts
    assert [p.step for p in train] == list(range(1, 13)) and [p.epoch for p in train][::4] == [0, 1, 2]
    assert [p.step for p in evaluation] == [2, 4, 6, 8, 10, 12]
    assert len(chart_uploads(stack, job)) == 1
    # the 8 held-out examples are evaluated against the base model once, in the same thread
    [evaluation_message] = thread_messages(stack, job, EVALUATION_EVENT_TYPE)
    assert "8 held-out examples" in all_text(evaluation_message)
    await stack.poll(all_due=True)
    assert len(chart_uploads(stack, job)) == 1 and len(charts) == 1
    assert len(thread_messages(stack, job, EVALUATION_EVENT_TYPE)) == 1

    # /tune try on a checkpoint answers from that checkpoint's own endpoint
    job_number = (job.model_name or "").rsplit("/", 1)[1]
    before = stack.emulator.emulator.stats()["by_method"].get("vertex.endpoints.generateContent", 0)
    assert await try_answers(stack, f"{job_number} checkpoint=1 5") == ["6"]
    by_method = stack.emulator.emulator.stats()["by_method"]
    assert by_method["vertex.endpoints.generateContent"] == before + 1


async def test_a_checkpoint_try_names_the_model_and_a_missing_checkpoint_is_refused_privately(
    stack: OfflineStack,
) -> None:
    assert stack.emulator is not None and stack.sender is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    job = await start(stack, 'numbers name="support bot" epochs=2')
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    job_number = (job.model_name or "").rsplit("/", 1)[1]
    # a checkpoint that exists: the thread names the model as people know it, and the checkpoint
    assert await try_answers(stack, f"{job_number} checkpoint=1 5") == ["6"]
    prompt = bot_posts(stack)[-1]
    assert prompt.text.startswith(f"<@{OTHER}> asked *support bot* (checkpoint 1):"), prompt.text
    thread = stack.workspace.thread(CHANNEL, prompt.ts)
    shown = [text for m in thread for text in [*m.texts, all_text(m)]]
    assert not any("#checkpoint" in text for text in shown), shown
    # one that does not: said privately, before anything is posted in the channel
    posts, seen = len(bot_posts(stack)), len(ephemerals_for(stack, OTHER))
    await stack.sender.slash_command(OTHER, f"try {job_number} checkpoint=7 hello")
    refusal = await next_ephemeral(stack, OTHER, seen)
    assert "no checkpoint 7" in refusal.text and "1 (epoch 1)" in refusal.text, refusal.text
    assert "*support bot*" in refusal.text
    await stack.poll(all_due=True)
    assert len(bot_posts(stack)) == posts


async def test_the_code_13_endpoint_failure_says_where_the_model_is_and_delete_removes_it(
    stack: OfflineStack,
) -> None:
    assert stack.emulator is not None
    stack.emulator.emulator.update_faults({"vertex_endpoint_failures": ["Broken*"]})
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    job = await start(stack, 'numbers name="Broken endpoint" epochs=1')
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    [notice] = notices(stack, job)
    text = all_text(notice)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and row.state == "failed" and row.error_code == 13
    assert row.tuned_model and row.tuned_model.endswith("@1")
    assert "could not create the endpoint" in text and "Model Registry" in text
    assert row.tuned_model.split("@")[0] in text and "Deploy to endpoint" in text
    job_number = (job.model_name or "").rsplit("/", 1)[1]
    await confirm_delete(stack, job_number)
    by_method = stack.emulator.emulator.stats()["by_method"]
    assert by_method["vertex.models.delete"] == 1 and "vertex.endpoints.delete" not in by_method
    assert stack.emulator.emulator.vertex.live_endpoints(int(job_number)) == []


async def confirm_delete(stack: OfflineStack, job_number: str) -> Ephemeral:
    assert stack.sender is not None
    prompt = await command(stack, OWNER, f"delete {job_number}")
    assert isinstance(prompt, Ephemeral)
    [delete] = buttons(prompt)
    await stack.sender.block_action(
        OWNER, delete["action_id"], delete["value"], CHANNEL, message_ts=prompt.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: any(w in prompt.text for w in ("Deleted", "deleted it", "no longer")))
    return prompt


def uploaded(stack: OfflineStack) -> list[str]:
    assert stack.emulator is not None
    return sorted(
        name
        for bucket, name in stack.emulator.emulator.vertex.state.objects
        if bucket == OFFLINE_VERTEX_BUCKET
    )


async def test_delete_leaves_nothing_billable_behind(stack: OfflineStack) -> None:
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    job = await start(stack, "numbers epochs=3 validation=10%")
    assert len(uploaded(stack)) == 2  # training and validation JSONL
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    job_number = (job.model_name or "").rsplit("/", 1)[1]
    assert len(stack.emulator.emulator.vertex.live_endpoints(int(job_number))) == 3  # one per epoch
    await confirm_delete(stack, job_number)
    assert stack.emulator.emulator.vertex.live_endpoints(int(job_number)) == []
    assert uploaded(stack) == []
    by_method = stack.emulator.emulator.stats()["by_method"]
    assert by_method["vertex.endpoints.undeployModel"] == 3 and by_method["vertex.models.delete"] == 1


async def test_delete_cancels_a_running_job_and_removes_its_files(stack: OfflineStack) -> None:
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    job = await start(stack, "numbers epochs=3")
    stack.emulator.advance(4)
    await stack.poll(all_due=True)
    job_number = (job.model_name or "").rsplit("/", 1)[1]
    await confirm_delete(stack, job_number)
    by_method = stack.emulator.emulator.stats()["by_method"]
    assert by_method["vertex.tuningJobs.cancel"] == 1
    assert uploaded(stack) == [] and stack.emulator.emulator.vertex.live_endpoints(int(job_number)) == []


async def test_a_setting_keeps_the_uploaded_files(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex", settings={"VERTEX_KEEP_FILES": "true"}) as stack:
        assert stack.emulator is not None
        await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
        job = await start(stack, "numbers epochs=1")
        stack.emulator.emulator.finish_all()
        await stack.poll(all_due=True)
        await confirm_delete(stack, (job.model_name or "").rsplit("/", 1)[1])
        assert len(uploaded(stack)) == 1


async def test_export_last_checkpoint_only_is_a_setting(tmp_path: Path) -> None:
    settings = {"VERTEX_EXPORT_LAST_CHECKPOINT_ONLY": "true"}
    with running_stack(tmp_path, backend="vertex", settings=settings) as stack:
        assert stack.emulator is not None
        await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
        job = await start(stack, "numbers epochs=3")
        stack.emulator.emulator.finish_all()
        await stack.poll(all_due=True)
        job_number = int((job.model_name or "").rsplit("/", 1)[1])
        assert len(stack.emulator.emulator.vertex.live_endpoints(job_number)) == 1
        text = all_text(notices(stack, job)[0])
        assert "checkpoint `3`: epoch 3, step 15" in text and "checkpoint `1`" not in text


async def test_a_job_waiting_for_quota_says_so(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex", vertex_concurrent_jobs=1) as stack:
        assert stack.emulator is not None
        await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
        await start(stack, 'numbers name="first" epochs=1')
        second = await start(stack, 'numbers name="second" epochs=1')
        stack.emulator.advance(1.5)
        await stack.poll(all_due=True)
        text = all_text(job_message(stack, second))
        assert "waiting for quota" in text.lower() and "per project" in text
        stack.emulator.emulator.finish_all()
        await stack.poll(all_due=True)
        row = store_of(stack).jobs.get(second.id or 0)
        assert row is not None and row.state == "succeeded"


async def test_a_start_refused_for_quota_says_it_was_not_queued(tmp_path: Path) -> None:
    with running_stack(
        tmp_path, backend="vertex", vertex_concurrent_jobs=1, vertex_quota_refuses=True
    ) as stack:
        assert stack.sender is not None
        await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
        await start(stack, 'numbers name="first" epochs=1')
        seen = len(ephemerals_for(stack, OWNER))
        await stack.sender.slash_command(OWNER, 'start numbers name="second" epochs=1')
        shown = all_text(await next_ephemeral(stack, OWNER, seen))
        assert "refused, not queued" in shown and "per project" in shown


async def test_a_tuned_gemini_3_model_is_tried_on_the_multi_region_host(stack: OfflineStack) -> None:
    assert stack.emulator is not None and stack.sender is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    job = await start(stack, "numbers base_model=gemini-3.5-flash epochs=1")
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    job_number = (job.model_name or "").rsplit("/", 1)[1]
    stack.emulator.emulator.reset_stats()
    assert await try_answers(stack, f"{job_number} 7") == ["8"]
    assert stack.emulator.emulator.stats()["by_method"]["vertex.endpoints.generateContent"] == 1
    # the endpoint lives in the `us` multi-region, which the regional host refuses
    import httpx

    endpoint = f"projects/tunebot-offline/locations/us/endpoints/{int(job_number) + 1}"
    async with httpx.AsyncClient(base_url=stack.emulator.url, headers={"authorization": "Bearer t"}) as http:
        regional = await http.post(f"/v1/{endpoint}:generateContent", json=_prompt("7"))
        multi = await http.post(f"/rep/us/v1/{endpoint}:generateContent", json=_prompt("7"))
    assert regional.status_code == 400 and "multi-region" in regional.json()["error"]["message"]
    assert multi.status_code == 200
    await confirm_delete(stack, job_number)
    assert stack.emulator.emulator.vertex.live_endpoints(int(job_number)) == []


def _prompt(text: str) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}]}


async def test_a_job_cancelled_outside_tunebot_gets_its_notice_and_chart_once(stack: OfflineStack) -> None:
    assert stack.emulator is not None and stack.runtime is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    job = await start(stack, "numbers epochs=3 validation=20%")
    stack.emulator.advance(6)
    await stack.poll(all_due=True)
    backend = stack.runtime.ctx.backend
    await stack.arun(backend.client.cancel_tuning_job(job.operation_name or ""))  # type: ignore[attr-defined]
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    [notice] = notices(stack, job)
    assert "cancelled" in all_text(notice)
    [chart] = stack.workspace.uploads(CHANNEL)
    assert chart.content.startswith(b"\x89PNG") and chart.thread_ts == job.message_ts
