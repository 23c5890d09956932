"""The poller paces itself around Slack's requests (`bot/polling/pacing.py`): while an ack is
being answered no poll step runs, and no turn of the event loop runs more than a few."""

from __future__ import annotations

import asyncio

from bot.polling.pacing import Pacer


async def test_no_poll_step_runs_while_a_request_is_answered() -> None:
    pacer = Pacer(per_iteration=4, max_wait=5.0)
    ran: list[int] = []

    async def step(n: int) -> None:
        await pacer.turn()
        ran.append(n)

    with pacer.serving():
        steps = [asyncio.create_task(step(n)) for n in range(10)]
        for _ in range(20):
            await asyncio.sleep(0)
        assert ran == []
    await asyncio.wait_for(asyncio.gather(*steps), 2)
    assert sorted(ran) == list(range(10))


async def test_steps_are_let_through_a_few_per_turn_of_the_loop() -> None:
    pacer = Pacer(per_iteration=3, max_wait=5.0)
    ran = 0

    async def step() -> None:
        nonlocal ran
        await pacer.turn()
        ran += 1

    steps = [asyncio.create_task(step()) for _ in range(12)]
    seen: list[int] = []
    while ran < 12:
        before = ran
        await asyncio.sleep(0)
        seen.append(ran - before)
    await asyncio.gather(*steps)
    assert max(seen) <= 3
    assert sum(seen) == 12


async def test_a_request_that_never_ends_holds_the_poller_only_max_wait() -> None:
    pacer = Pacer(per_iteration=4, max_wait=0.05)
    with pacer.serving():
        await asyncio.wait_for(pacer.turn(), 1)
