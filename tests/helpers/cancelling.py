"""Driving `/tune cancel` through the fake Slack on the emulator's Vertex AI: a job part way
through its tuning, and the command with its confirmation click."""

from __future__ import annotations

from bot.datasets.samples import tutorial_csv
from bot.storage.models import TuningJob
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import OWNER, all_text, buttons, click, command, eventually, store_of, upload_file

ESTIMATE = 8.0  # what the start estimated (set on the row, as the start's estimate would be)


async def tuning_job(
    stack: OfflineStack,
    *,
    name: str = "Number generator",
    epochs: int = 4,
    done_epochs: float = 2.5,
    upload: bool = True,
) -> TuningJob:
    """A job of OWNER's on the tutorial dataset, `done_epochs` epochs into its tuning, polled."""
    assert stack.sender is not None and stack.emulator is not None
    if upload:
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    store = store_of(stack)
    known = {j.id for j in store.jobs.active()}
    await stack.sender.slash_command(OWNER, f'start tutorial name="{name}" epochs={epochs}')
    job = await eventually(
        lambda: next(
            (
                j
                for j in store.jobs.active()
                if j.id not in known and j.message_ts and j.lease_owner is None and j.model_name
            ),
            None,
        )
    )
    emulator = stack.emulator.emulator
    vertex_job = emulator.vertex.state.jobs[int(job_number(job))]
    target = vertex_job.tuning_at + done_epochs * vertex_job.steps_per_epoch * vertex_job.step_seconds
    emulator.advance(max(0.0, target - emulator.now()))
    await stack.poll(all_due=True)
    polled = store.jobs.get(job.id or 0)
    assert polled is not None and polled.state == "running"
    # The whole run priced at ESTIMATE, estimated and counted alike (the poller counts Vertex's
    # billable tokens at the table's tiny price otherwise), so the share charged is plain to see.
    return store.jobs.update(
        polled.id or 0, estimated_cost=ESTIMATE, counted_cost=ESTIMATE, cost_currency="USD"
    )


def job_number(job: TuningJob) -> str:
    return (job.model_name or "").rsplit("/", 1)[1]


async def ask_cancel(stack: OfflineStack, user: str, job: TuningJob) -> Ephemeral | str:
    return await command(stack, user, f"cancel {job_number(job)}")


async def confirm(stack: OfflineStack, user: str, job: TuningJob) -> str:
    """`/tune cancel <job>` and its confirmation click; the answer `user` sees."""
    asked = await ask_cancel(stack, user, job)
    assert isinstance(asked, Ephemeral) and buttons(asked), asked
    assert "Cancel the tuning of *" in all_text(asked)
    return (await click(stack, user, asked, "Cancel the job")).text
