"""The App Home tab (#15): what it shows, its buttons, and when it is redrawn."""

from __future__ import annotations

import asyncio

from bot.datasets.samples import tutorial_csv
from bot.slack.home import HomeTab
from standins.fakeslack import View
from standins.offline import OfflineStack
from tests.helpers.clock import ManualClock
from tests.helpers.slack import (
    OTHER,
    OWNER,
    all_text,
    delete_dataset,
    eventually,
    store_of,
    upload_file,
    wait_for,
)


def home_of(stack: OfflineStack) -> HomeTab:
    assert stack.runtime is not None and stack.runtime.ctx.home is not None
    return stack.runtime.ctx.home


def home_text(view: View) -> str:
    return all_text({"blocks": view.blocks})


async def opened_home(stack: OfflineStack, user: str) -> View:
    assert stack.sender is not None
    await stack.sender.app_home_opened(user)
    return await wait_for(stack, lambda: stack.workspace.home_view(user))


async def test_home_shows_datasets_jobs_and_models_and_follows_changes(stack: OfflineStack) -> None:
    assert stack.sender is not None and stack.emulator is not None
    home_of(stack).min_interval = 0.0
    view = await opened_home(stack, OWNER)
    assert "Your datasets* (0)" in home_text(view) and "Your running jobs* (0)" in home_text(view)
    await opened_home(stack, OTHER)

    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await wait_for(stack, lambda: "*tutorial* — 15 examples" in home_text(view))
    await stack.sender.slash_command(OWNER, 'start tutorial name="numbers"')
    await wait_for(stack, lambda: "*numbers* — :hourglass_flowing_sand: queued" in home_text(view))
    store = store_of(stack)
    await eventually(lambda: next((j for j in store.jobs.active() if j.lease_owner is None), None))
    stack.emulator.advance(60)
    await stack.poll(all_due=True)
    await wait_for(stack, lambda: "Your models* (1)" in home_text(view))
    assert "used by: numbers" in home_text(view) and "Your running jobs* (0)" in home_text(view)
    # The other person sees it among the team's models, with Try but no Delete.
    other = stack.workspace.home_view(OTHER)
    assert other is not None
    await wait_for(stack, lambda: "The team's other models* (1)" in home_text(other))
    labels = [e["text"]["text"] for b in other.blocks if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Try"]

    # Try from the Home tab opens the thread in the DM with the bot.
    [try_button, delete_button] = [e for b in view.blocks if b["type"] == "actions" for e in b["elements"]]
    await stack.sender.block_action(OWNER, try_button["action_id"], try_button["value"], view=view)
    dm = "D" + OWNER[1:]
    await wait_for(stack, lambda: any("is trying *numbers*" in m.text for m in stack.workspace.messages(dm)))

    # Delete from the Home tab: the answer comes as a DM, and the tab drops the model.
    await stack.sender.block_action(OWNER, delete_button["action_id"], delete_button["value"], view=view)
    await wait_for(stack, lambda: any("Deleted *numbers*" in m.text for m in stack.workspace.messages(dm)))
    await wait_for(stack, lambda: "Your models* (0)" in home_text(view))
    await wait_for(stack, lambda: "The team's other models* (0)" in home_text(other))

    await delete_dataset(stack, OWNER, "tutorial")
    await wait_for(stack, lambda: "Your datasets* (0)" in home_text(view))


async def test_home_is_redrawn_at_most_once_per_interval(stack: OfflineStack) -> None:
    home = home_of(stack)
    clock = ManualClock()
    home.clock, home.sleep = clock, clock.sleep
    home.min_interval = 0.5
    await opened_home(stack, OWNER)
    first = await eventually(lambda: home.published)
    team = stack.workspace.team_id

    async def burst() -> None:
        for _ in range(20):
            home.changed(team)
            clock.advance(0.01)
            await asyncio.sleep(0)

    assert stack.runtime is not None
    await stack.arun(burst())  # twenty changes in the first 0.2 s of the interval
    await eventually(lambda: clock.sleeping == 1)  # one publish, waiting for the interval's end
    assert home.published == first
    clock.advance(home.min_interval)
    await eventually(lambda: home.published - first == 1)
    assert clock.sleeping == 0  # twenty changes, one publish at the end of the interval
    publishes = stack.workspace.calls("views.publish")
    assert len(publishes) == home.published
