"""A hard budget (issue #22 item 5): with a policy that refuses starts over a monthly budget, a
running job whose counted cost takes its owner's month past it is cancelled by tunebot, once,
whatever replicas run; its checkpoints stay usable, its message says why once, and its owner
hears it once in a DM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.audit import TUNEBOT_ACTOR, AuditAction
from bot.slack.notices import BudgetNotices
from standins.offline import OfflineStack
from tests.helpers.cancelling import job_number, tuning_job
from tests.helpers.slack import CHANNEL, OWNER, all_text, bot_posts, running_stack, store_of, wait_for
from tests.helpers.spend import add_job

OWNER_DM = "D" + OWNER[1:]
# The tutorial's 57 billable tokens × 4 epochs at this price cost USD 8.00: what the helper
# writes on the row, so the poller's own count agrees with it whenever it runs.
PRICED = {"TUNEBOT_TRAINING_PRICES": f"gemini-2.5-flash={8.0 / (57 * 4) * 1_000_000:.4f}"}


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    budget = {"TUNEBOT_MONTHLY_BUDGET_PER_USER": "10", "TUNEBOT_OVER_BUDGET": "refuse", **PRICED}
    with running_stack(tmp_path, backend="vertex", settings=budget) as running:
        yield running


def cap_notices(stack: OfflineStack) -> list[str]:
    return [m.text for m in stack.workspace.messages(OWNER_DM) if "I cancelled your tuning job" in m.text]


async def test_a_job_whose_count_passes_a_hard_budget_is_cancelled_once(stack: OfflineStack) -> None:
    store = store_of(stack)
    team = stack.workspace.team_id
    job = await tuning_job(stack)  # 2.5 of 4 epochs in; counted at USD 8.00 for the whole run
    add_job(store, team, OWNER, counted="5.00", name="earlier job")  # (after the start: it fit)
    assert stack.emulator is not None and stack.runtime is not None

    await stack.poll(all_due=True)  # USD 13.00 this month, past USD 10.00: tunebot cancels it
    cancelled = store.jobs.get(job.id or 0)
    assert (
        cancelled is not None and cancelled.state == "cancelled" and cancelled.cancelled_by == TUNEBOT_ACTOR
    )
    assert cancelled.counted_cost == pytest.approx(8.0 * 2.5 / 4, rel=0.15)  # the cost so far
    vertex = stack.emulator.emulator.vertex
    assert vertex.state.jobs[int(job_number(job))].state(vertex.now()) == "JOB_STATE_CANCELLED"

    message = await wait_for(
        stack,
        lambda: next(
            (m for m in bot_posts(stack) if m.ts == job.message_ts and "cancelled by tunebot" in all_text(m)),
            None,
        ),
    )
    assert "hard monthly budget" in all_text(message)
    assert "Checkpoints 1–2 stay usable" in all_text(message)  # the epochs it finished
    [notice] = await wait_for(stack, lambda: cap_notices(stack) or None)
    assert "*Number generator*" in notice and "USD 10.00" in notice and "checkpoint=N" in notice

    # Another replica, later cycles and a restart neither cancel again nor tell it twice.
    replica = BudgetNotices(
        store,
        stack.runtime.ctx.client,
        stack.runtime.settings,
        owner="replica-2",
        lease_seconds=120,
        backend=stack.runtime.ctx.backend,
    )
    await replica.run_due()
    await stack.poll(all_due=True)
    stack.restart_bot()
    await stack.poll(all_due=True)
    assert replica.cancelled == 0 and len(cap_notices(stack)) == 1
    cancels = [e for e in store.audit.entries(team) if e.action is AuditAction.CANCEL]
    assert [(e.actor_user_id, e.details["job_id"]) for e in cancels] == [(TUNEBOT_ACTOR, job.id)]
    shown = [all_text(m) for m in stack.workspace.messages(CHANNEL)]
    assert sum("hard monthly budget" in text for text in shown) == 1


async def test_within_the_budget_or_with_approval_nothing_is_cancelled(tmp_path: Path) -> None:
    asks = {"TUNEBOT_MONTHLY_BUDGET_PER_USER": "10", "TUNEBOT_OVER_BUDGET": "approve", **PRICED}
    with running_stack(tmp_path, backend="vertex", settings=asks) as stack:
        store = store_of(stack)
        job = await tuning_job(stack)
        add_job(store, stack.workspace.team_id, OWNER, counted="5.00")
        await stack.poll(all_due=True)  # past the budget, but it is not a hard one: it asks
        running = store.jobs.get(job.id or 0)
        assert running is not None and running.state == "running" and running.cancelled_by is None
        assert not cap_notices(stack)
