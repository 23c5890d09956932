"""A tuning job carried to its end on the offline stack, for the evaluation and state tests."""

from __future__ import annotations

from bot.datasets.samples import tutorial_csv
from bot.domain.types import TrainingExample
from bot.storage.models import TuningJob
from standins.offline import OfflineStack
from tests.helpers.slack import OWNER, eventually, store_of, upload_file

# A validation set the emulated tuned model answers right (numbers: what follows), so the
# scores do not depend on which examples a random split would hold out.
HELD_NUMBERS = [TrainingExample(str(n), str(n + 1)) for n in range(40, 52)]


async def finished_job(stack: OfflineStack, start: str) -> TuningJob:
    assert stack.sender is not None and stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    if "validation=held" in start:
        rows = "input,output\n" + "".join(f"{p.text_input},{p.output}\n" for p in HELD_NUMBERS)
        await upload_file(stack, OWNER, "held.csv", rows.encode())
    await stack.sender.slash_command(OWNER, f"start {start}")
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    stack.emulator.advance(600)
    return job
