"""`/tune cancel <model>` end to end through the fake Slack, on the emulator's Vertex AI: who
may cancel (owner, admin, approver; not a stranger), the private confirmation, forged and
stale clicks, a job that already ended, the checkpoints a cancelled job keeps (`/tune try`
still answers from them), and the job message saying it once (no end-of-job notice)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.datasets.samples import tutorial_csv
from bot.domain.audit import AuditAction
from bot.storage.models import TuningJob
from bot.storage.store import Store
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.cancelling import ask_cancel, confirm, job_number, tuning_job
from tests.helpers.databases import postgres_schema_url, sqlite_url
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    buttons,
    click,
    command,
    eventually,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def text_of(answer: Ephemeral | str) -> str:
    return answer if isinstance(answer, str) else all_text(answer)


async def test_the_owner_cancels_after_confirming_and_the_job_message_says_it_once(
    stack: OfflineStack,
) -> None:
    job = await tuning_job(stack)
    assert stack.emulator is not None
    answer = await confirm(stack, OWNER, job)
    assert answer.startswith(":no_entry_sign: Cancelled the tuning of *Number generator*")
    assert "checkpoints 1–2 stay usable" in answer and "cost so far USD" in answer

    store = store_of(stack)
    done = store.jobs.get(job.id or 0)
    assert done is not None and done.state == "cancelled" and done.cancelled_by == OWNER
    assert done.notice_state == "skipped"
    # 2.5 of 4 epochs: the steps done (to the cancel) × the estimate.
    assert done.completed_steps is not None and done.total_steps
    assert done.counted_cost == pytest.approx(8.0 * done.completed_steps / done.total_steps)
    vertex = stack.emulator.emulator.vertex
    assert vertex.state.jobs[int(job_number(job))].state(vertex.now()) == "JOB_STATE_CANCELLED"

    message = await wait_for(
        stack,
        lambda: next(
            (m for m in bot_posts(stack) if m.ts == job.message_ts and "cancelled by" in all_text(m)), None
        ),
    )
    shown = all_text(message)
    assert f"cancelled by <@{OWNER}>" in shown
    assert "Checkpoints 1–2 stay usable" in shown and "cost so far USD" in shown

    # Later poll cycles neither post a notice nor say it again anywhere.
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    thread = stack.workspace.thread(CHANNEL, job.message_ts or "")
    assert [m for m in thread if m.ts != job.message_ts] == []
    everything = [all_text(m) for m in stack.workspace.messages(CHANNEL)]
    assert sum("stay usable" in text for text in everything) == 1  # the job message, once
    # …and the cost so far stays what the cancel recorded (Vertex's whole-run count does not
    # replace it).
    after = store.jobs.get(job.id or 0)
    assert after is not None and after.counted_cost == done.counted_cost


async def test_checkpoints_stay_usable_after_a_cancel(stack: OfflineStack) -> None:
    job = await tuning_job(stack)
    assert stack.sender is not None and stack.emulator is not None
    await confirm(stack, OWNER, job)
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"try {job_number(job)} checkpoint=2 55")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert answers() == ["56"]
    # The epoch it never finished has no checkpoint; the job has no endpoint of its own.
    refused = text_of(await command(stack, OTHER, f"try {job_number(job)} checkpoint=3 55"))
    assert "checkpoint" in refused and "3" in refused
    live = stack.emulator.emulator.vertex.live_endpoints(int(job_number(job)))
    assert len(live) == 2 and all("/endpoints/" in name for name in live)


async def test_a_stranger_is_refused(stack: OfflineStack) -> None:
    job = await tuning_job(stack)
    refused = text_of(await ask_cancel(stack, OTHER, job))
    assert refused.startswith(":no_entry: Only <@U0OWNER>")
    current = store_of(stack).jobs.get(job.id or 0)
    assert current is not None and current.state == "running" and current.cancelled_by is None


async def test_an_admin_may_cancel(stack: OfflineStack) -> None:
    job = await tuning_job(stack)
    answer = await confirm(stack, ADMIN, job)
    assert "Cancelled the tuning" in answer
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.cancelled_by == ADMIN


async def test_the_approver_of_the_job_may_cancel(stack: OfflineStack) -> None:
    job = await tuning_job(stack)
    store = store_of(stack)
    # Another job's approval gives no right to this one.
    store.audit.append(
        team_id=job.team_id, actor_user_id=OTHER, action=AuditAction.APPROVE, details={"job_id": 999}
    )
    assert text_of(await ask_cancel(stack, OTHER, job)).startswith(":no_entry:")
    store.audit.append(
        team_id=job.team_id,
        actor_user_id=OTHER,
        action=AuditAction.APPROVE,
        subject="Number generator",
        details={"job_id": job.id},
    )
    answer = await confirm(stack, OTHER, job)
    assert "Cancelled the tuning" in answer
    done = store.jobs.get(job.id or 0)
    assert done is not None and done.cancelled_by == OTHER


async def test_forged_and_stale_clicks_are_refused(stack: OfflineStack) -> None:
    job = await tuning_job(stack)
    assert stack.sender is not None
    asked = await ask_cancel(stack, OWNER, job)
    assert isinstance(asked, Ephemeral)
    [button] = buttons(asked)
    # A stranger replays the owner's button (the value is only the job's id): refused, still running.
    await stack.sender.block_action(
        OTHER, button["action_id"], button["value"], CHANNEL, message_ts=asked.message_ts, is_ephemeral=True
    )
    store = store_of(stack)
    await eventually(lambda: "may cancel it" in asked.text)
    current = store.jobs.get(job.id or 0)
    assert current is not None and current.state == "running"
    # A value tunebot never set.
    await stack.sender.block_action(
        OWNER, button["action_id"], "1; drop table", CHANNEL, message_ts=asked.message_ts, is_ephemeral=True
    )
    await eventually(lambda: "no tuning job" in asked.text)
    # The owner's own click, then the same click again (stale): cancelled once.
    asked = await ask_cancel(stack, OWNER, job)
    assert isinstance(asked, Ephemeral)
    first = (await click(stack, OWNER, asked, "Cancel the job")).text
    assert "Cancelled the tuning" in first
    await stack.sender.block_action(
        OWNER, button["action_id"], button["value"], CHANNEL, message_ts=asked.message_ts, is_ephemeral=True
    )
    await eventually(lambda: "already cancelled by <@U0OWNER>" in asked.text)
    cancels = [e for e in store.audit.entries(job.team_id) if e.action == AuditAction.CANCEL]
    assert len(cancels) == 1


async def test_cancel_of_an_ended_job(stack: OfflineStack) -> None:
    job = await tuning_job(stack)
    assert stack.emulator is not None
    asked = await ask_cancel(stack, OWNER, job)
    assert isinstance(asked, Ephemeral)
    # The job ends before the click (the confirmation was left open).
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    answer = (await click(stack, OWNER, asked, "Cancel the job")).text
    assert "is not tuning any more (it finished: the model is ready)" in answer
    # And asked afresh.
    again = text_of(await ask_cancel(stack, OWNER, job))
    assert "nothing to cancel" in again
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded" and done.cancelled_by is None


async def test_a_job_that_ends_between_the_question_and_the_click_gets_its_notice(
    stack: OfflineStack,
) -> None:
    """Vertex refuses the cancel of a job that has just succeeded: the claim is undone, so the
    poller still announces the success (once)."""
    job = await tuning_job(stack)
    assert stack.emulator is not None
    asked = await ask_cancel(stack, OWNER, job)
    assert isinstance(asked, Ephemeral)
    stack.emulator.emulator.finish_all()  # Vertex has it succeeded; tunebot has not polled yet
    answer = (await click(stack, OWNER, asked, "Cancel the job")).text
    assert "nothing to cancel" in answer
    report = await stack.poll(all_due=True)
    assert report.notices == 1
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded" and done.notice_state != "skipped"


async def test_cancel_usage_and_unknown_model(stack: OfflineStack) -> None:
    assert "Usage: `/tune cancel <model>`" in text_of(await command(stack, OWNER, "cancel"))
    unknown = text_of(await command(stack, OWNER, "cancel 1234567890"))
    assert "no tuning job" in unknown


async def test_the_gemini_api_gets_a_clear_refusal(tmp_path: Path) -> None:
    """The Gemini API cannot stop a job and keep its model: `/tune cancel` says so and points to
    `/tune delete`, without asking to confirm; the job keeps tuning."""
    with running_stack(tmp_path) as gemini:
        assert gemini.sender is not None
        await upload_file(gemini, OWNER, "tutorial.csv", tutorial_csv())
        await gemini.sender.slash_command(OWNER, 'start tutorial name="Number generator"')
        store = store_of(gemini)
        job = await eventually(lambda: next((j for j in store.jobs.active() if j.model_name), None))
        answer = await command(gemini, OWNER, f"cancel {(job.model_name or '').rsplit('/', 1)[1]}")
        assert isinstance(answer, Ephemeral) and not buttons(answer)
        assert "Gemini API, which cannot stop a job and keep its model" in answer.text
        assert "`/tune delete`" in answer.text
        current = store.jobs.get(job.id or 0)
        assert current is not None and current.state in ("queued", "running") and current.cancelled_by is None


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_one_claim_per_job_on_either_database(dialect: str, tmp_path: Path) -> None:
    """Two cancels of one job (two clicks, two replicas): only the first claims it; a claim the
    service refused is undone, and then the job can be claimed again."""

    def check(store: Store) -> None:
        job = store.jobs.create(
            TuningJob(
                team_id="T1",
                owner_user_id=OWNER,
                channel_id="C1",
                display_name="numbers",
                base_model="gemini-2.5-flash",
                model_name="projects/p/locations/l/tuningJobs/1",
                operation_name="projects/p/locations/l/tuningJobs/1",
                epoch_count=4,
                batch_size=0,
                learning_rate=0.0,
                state="running",
            )
        )
        assert job.id is not None
        assert store.jobs.claim_cancel(job.id, OWNER) is True
        assert store.jobs.claim_cancel(job.id, ADMIN) is False
        claimed = store.jobs.get(job.id)
        assert claimed is not None and claimed.cancelled_by == OWNER and claimed.notice_state == "skipped"
        store.jobs.unclaim_cancel(job.id, OWNER)
        undone = store.jobs.get(job.id)
        assert undone is not None and undone.cancelled_by is None and undone.notice_state == "none"
        assert store.jobs.claim_cancel(job.id, ADMIN) is True
        store.jobs.update(job.id, state="succeeded")
        assert store.jobs.claim_cancel(job.id, OWNER) is False

    if dialect == "sqlite":
        store = Store.from_url(sqlite_url(tmp_path))
        check(store)
        store.engine.dispose()
        return
    with postgres_schema_url() as url:
        store = Store.from_url(url)
        check(store)
        store.engine.dispose()


async def test_tuning_goes_on_from_a_cancelled_jobs_checkpoint(stack: OfflineStack) -> None:
    """#22 item 6: a cancelled job's checkpoints stay usable to continue from (`from=`), though it
    has no final model to continue from."""
    job = await tuning_job(stack)  # 2.5 of 4 epochs: checkpoints 1 and 2
    assert stack.sender is not None and stack.emulator is not None
    await confirm(stack, OWNER, job)
    number = job_number(job)

    without = text_of(await command(stack, OWNER, f"start tutorial from={number}"))
    assert "was cancelled, so it has no final model" in without and "`checkpoint=N`" in without

    before = len(stack.emulator.emulator.vertex.create_requests)
    await stack.sender.slash_command(OWNER, f'start tutorial name="Resumed" from={number} checkpoint=2')
    child = await eventually(
        lambda: next(
            (j for j in store_of(stack).jobs.active() if j.display_name == "Resumed" and j.model_name), None
        )
    )
    vertex = stack.emulator.emulator.vertex
    body = await eventually(
        lambda: vertex.create_requests[before] if len(vertex.create_requests) > before else None
    )
    assert body["preTunedModel"]["checkpointId"] == "2"
    assert (child.parent_model, child.parent_checkpoint) == (job.model_name, "2")
