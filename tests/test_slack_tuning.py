"""`/tune start`, progress in place, the end-of-job notice and chart, `/tune status` / `datasets`."""

from __future__ import annotations

from typing import Any

import pytest

from bot.datasets.samples import tutorial_csv
from bot.storage.models import TuningJob
from standins.fakeslack import Message
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    buttons,
    ephemerals_for,
    eventually,
    next_ephemeral,
    store_of,
    upload_file,
    wait_for,
)


async def start(stack: OfflineStack, text: str, user: str = OWNER) -> dict[str, Any]:
    assert stack.sender is not None
    response = await stack.sender.slash_command(user, f"start {text}")
    assert response.status_code == 200
    return ack_body(response)


async def started_job(stack: OfflineStack, text: str = "tutorial") -> tuple[TuningJob, Message]:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    ack = await start(stack, text)
    assert "Starting tuning on dataset `tutorial`" in ack["text"]
    message = await wait_for(stack, lambda: next(iter(bot_posts(stack)), None))
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    return job, message


def job_message(stack: OfflineStack, job: TuningJob) -> Message:
    assert job.message_ts is not None
    found = stack.workspace.message(CHANNEL, job.message_ts)
    assert found is not None
    return found


def thread_replies(stack: OfflineStack, job: TuningJob) -> list[Message]:
    assert job.message_ts is not None
    return [m for m in stack.workspace.thread(CHANNEL, job.message_ts) if m.ts != job.message_ts]


async def test_start_creates_the_model_and_posts_one_job_message(stack: OfflineStack) -> None:
    job, message = await started_job(stack, 'tutorial name="Number generator" epochs=5 batch_size=2')
    assert job.owner_user_id == OWNER and job.channel_id == CHANNEL
    assert job.display_name == "Number generator"
    assert job.model_name and job.model_name.startswith("tunedModels/number-generator-")
    assert job.operation_name and job.total_steps == 38
    assert (job.epoch_count, job.batch_size, job.learning_rate) == (5, 2, 0.001)
    owner = store_of(stack).ownership.get(job.model_name)
    assert owner is not None and owner.owner_user_id == OWNER
    text = all_text(message)
    assert "Number generator" in text and f"<@{OWNER}>" in text and "38" in text
    assert stack.emulator is not None
    assert job.model_name.removeprefix("tunedModels/") in stack.emulator.emulator.model_ids()


async def test_progress_is_edited_in_place_and_the_notice_and_chart_come_once(stack: OfflineStack) -> None:
    job, _ = await started_job(stack)
    assert stack.emulator is not None
    stack.emulator.advance(10)  # 10 of 38 steps
    report = await stack.poll(all_due=True)
    assert report.polled == 1 and report.edits == 1
    message = job_message(stack, job)
    assert "10 / 38" in all_text(message) or "10/38" in all_text(message)
    # Nothing visible moved: no edit (chat.update is rate limited).
    versions = len(message.versions)
    job_row = store_of(stack).jobs.get(job.id or 0)
    assert job_row is not None
    store_of(stack).jobs.update(job.id or 0, next_poll_at=job_row.created_at)
    report = await stack.poll(all_due=True)
    assert report.edits == 0 and len(job_message(stack, job).versions) == versions
    # Finish.
    stack.emulator.advance(60)
    store_of(stack).jobs.update(job.id or 0, next_poll_at=job_row.created_at)
    report = await stack.poll(all_due=True)
    assert report.notices == 1
    final = job_message(stack, job)
    assert "100%" in all_text(final)
    texts = final.texts
    assert len(texts) == len(set(texts)) or texts[-1] != texts[-2]
    replies = thread_replies(stack, job)
    notices = [m for m in replies if m.metadata]
    assert len(notices) == 1 and notices[0].reply_broadcast
    notice = all_text(notices[0])
    assert f"<@{OWNER}>" in notice and "is ready" in notice
    assert [b["value"] for b in buttons(notices[0])] == [job.model_name]
    charts = stack.workspace.uploads(CHANNEL)
    assert len(charts) == 1 and charts[0].content.startswith(b"\x89PNG")
    assert charts[0].thread_ts == job.message_ts
    # More cycles change nothing.
    store_of(stack).jobs.update(job.id or 0, next_poll_at=job_row.created_at)
    report = await stack.poll(all_due=True)
    assert report.claimed == 0
    assert len([m for m in thread_replies(stack, job) if m.metadata]) == 1
    assert len(stack.workspace.uploads(CHANNEL)) == 1
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded" and done.notice_state == "done"


async def test_an_injected_failure_is_announced_with_googles_message(stack: OfflineStack) -> None:
    job, _ = await started_job(stack)
    assert stack.emulator is not None and job.model_name
    stack.emulator.emulator.update_faults({"fail_models": [job.model_name.removeprefix("tunedModels/")]})
    stack.emulator.advance(60)
    await stack.poll(all_due=True)
    notices = [m for m in thread_replies(stack, job) if m.metadata]
    assert len(notices) == 1
    text = all_text(notices[0])
    assert "failed" in text and f"<@{OWNER}>" in text
    failed = store_of(stack).jobs.get(job.id or 0)
    assert failed is not None and failed.state == "failed" and failed.error_message
    assert failed.error_message[:30] in text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    # The failed job had loss points: its chart is posted with the notice, once (#13 item 2).
    [chart] = stack.workspace.uploads(CHANNEL)
    assert chart.content.startswith(b"\x89PNG") and chart.thread_ts == job.message_ts
    await stack.poll(all_due=True)
    assert len(stack.workspace.uploads(CHANNEL)) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nope", "There is no dataset `nope`. Datasets: `tutorial`"),
        ("tutorial epochs=0", "`epochs` must be between 1 and 100, not 0."),
        ("tutorial epochs=many", "`epochs` must be a whole number, not `many`."),
        ("tutorial learning_rate=-1", "`learning_rate` must be greater than 0"),
        ("tutorial colour=red", "I don't know the option `colour=red`"),
        ("tutorial base_model=models/gemini-2.5-pro", "cannot be tuned here"),
        ('tutorial name="' + "x" * 41 + '"', "`name` can be at most 40 characters"),
    ],
)
async def test_start_explains_bad_input_and_creates_nothing(
    stack: OfflineStack, text: str, expected: str
) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    seen = len(ephemerals_for(stack, OWNER))
    ack = await start(stack, text)
    shown = ack.get("text") or (await next_ephemeral(stack, OWNER, seen)).text
    assert expected in shown
    assert store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) == []
    assert stack.emulator is not None and stack.emulator.emulator.model_ids() == []
    assert bot_posts(stack) == []


async def test_a_refusal_from_the_api_is_shown_and_no_job_is_kept(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert stack.emulator is not None
    stack.emulator.emulator.update_faults(
        {"scripted": [{"method": "tunedModels.create", "code": 400, "times": 1}]}
    )
    seen = len(ephemerals_for(stack, OWNER))
    await start(stack, "tutorial")
    shown = await next_ephemeral(stack, OWNER, seen)
    assert "The tuning service refused to start" in shown.text
    assert store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) == []


async def test_the_start_form_checks_fields_and_starts(stack: OfflineStack) -> None:
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    views_before = len(stack.workspace.views(OWNER))
    await stack.sender.slash_command(OWNER, "start")
    view = await wait_for(
        stack, lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(OWNER))
    )
    assert view.callback_id == "tune_start"
    dataset = {"type": "static_select", "selected_option": {"value": "tutorial"}}
    base = {"type": "static_select", "selected_option": {"value": "models/gemini-1.5-flash-001-tuning"}}
    bad = await stack.sender.view_submission(
        OWNER,
        view,
        {
            "dataset": {"dataset": dataset},
            "epochs": {"epochs": "lots"},
            "batch_size": {"batch_size": "2"},
            "learning_rate": {"learning_rate": "0.001"},
            "base_model": {"base_model": base},
        },
    )
    assert bad.json()["response_action"] == "errors"
    assert "epochs" in bad.json()["errors"]
    good = await stack.sender.view_submission(
        OWNER,
        view,
        {
            "dataset": {"dataset": dataset},
            "name": {"name": "From the form"},
            "epochs": {"epochs": "3"},
            "batch_size": {"batch_size": "4"},
            "learning_rate": {"learning_rate": "0.002"},
            "base_model": {"base_model": base},
        },
    )
    assert good.status_code == 200 and not good.text.strip()
    message = await wait_for(stack, lambda: next(iter(bot_posts(stack)), None))
    assert "From the form" in all_text(message)
    job = store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)[0]
    assert (job.epoch_count, job.batch_size, job.learning_rate, job.total_steps) == (3, 4, 0.002, 12)
    estimate = await wait_for(
        stack, lambda: next((e for e in ephemerals_for(stack, OWNER) if "For this start" in e.text), None)
    )
    assert "training tokens" in estimate.text and "× 3 epochs; an estimate" in estimate.text


async def test_start_with_no_datasets_says_to_upload_first(stack: OfflineStack) -> None:
    ack = await start(stack, "")
    assert "Upload one with `/tune upload` first" in ack["text"]


async def test_status_and_datasets_show_the_callers_own_things(stack: OfflineStack) -> None:
    assert stack.sender is not None
    job, _ = await started_job(stack)
    # Quick database reads: answered in the ack itself (ephemeral, one round trip).
    status = ack_body(await stack.sender.slash_command(OWNER, "status"))
    assert f"#{job.id} tutorial" in all_text(status) and "queued" in all_text(status)
    assert "step 0 / 38" in all_text(status)
    datasets = ack_body(await stack.sender.slash_command(OWNER, "datasets"))
    assert "*tutorial* — 15 examples" in all_text(datasets) and "used by: tutorial" in all_text(datasets)
    one = ack_body(await stack.sender.slash_command(OWNER, f"status {job.id}"))
    assert f"#{job.id} tutorial" in all_text(one)
    missing = ack_body(await stack.sender.slash_command(OWNER, "status nope"))
    assert "You have no job `nope`" in all_text(missing)
    other = ack_body(await stack.sender.slash_command(OTHER, "status"))
    assert "You have no tuning jobs" in all_text(other)
    nothing = ack_body(await stack.sender.slash_command(OTHER, "datasets"))
    assert "You have no datasets yet" in all_text(nothing)
