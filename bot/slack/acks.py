"""Answering Slack the moment a listener acks, and carrying its work on after.

Bolt, left to itself, runs a listener as a task and checks every 10 ms whether it has
called `ack`, so every command, click and submission waited at least 10 ms before Slack got
its answer (about 12 ms each, and the p99 of 50 concurrent `/tune` commands was over 50 ms).
tunebot's Bolt app instead processes a request before it responds (`process_before_response`),
and each listener adapter runs its listener through `answer_at_ack`: the listener runs as a
task, and the adapter returns to Bolt as soon as the listener has called `ack` (or has ended,
or after `ACK_WAIT` seconds), which Bolt answers at once. The rest of the listener's work
carries on in the task; a failure after the ack is logged with its traceback like any other
listener failure. Events, which Bolt acknowledges itself, run wholly in the background
(`in_background`) so that their ack never waits for their work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

# Slack waits 3 s for an ack; a listener that has not acked by then gets Bolt's
# "no ack" answer (as before), and its work still goes on.
ACK_WAIT = 2.9

Ack = Callable[..., Awaitable[object]]

# Tasks still running after their request was answered: kept referenced until they end.
_running: set[asyncio.Task[None]] = set()


class _SignallingAck:
    """Bolt's ack, also setting an event once it has been called."""

    def __init__(self, ack: Ack, acked: asyncio.Event) -> None:
        self._ack = ack
        self._acked = acked

    async def __call__(self, *args: Any, **kwargs: Any) -> object:
        try:
            return await self._ack(*args, **kwargs)
        finally:
            self._acked.set()


async def _awaited(work: Awaitable[None]) -> None:
    await work


def _keep(task: asyncio.Task[None], kind: str) -> None:
    _running.add(task)

    def ended(done: asyncio.Task[None]) -> None:
        _running.discard(done)
        if not done.cancelled() and done.exception() is not None:
            log.error("listener failed on %s", kind, exc_info=done.exception())

    task.add_done_callback(ended)


async def answer_at_ack(
    run: Callable[[Ack], Awaitable[None]], ack: Ack, *, kind: str, wait: float = ACK_WAIT
) -> None:
    """Run `run(ack)` and return once it has called `ack`, has ended, or `wait` has passed.

    An error raised before the ack reaches Bolt (which answers Slack with an error, as
    before); one raised after it is logged."""
    acked = asyncio.Event()
    task = asyncio.create_task(_awaited(run(_SignallingAck(ack, acked))))
    waiter = asyncio.ensure_future(acked.wait())
    try:
        await asyncio.wait({task, waiter}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
    if task.done() and not acked.is_set():
        task.result()  # raises what the listener raised before acking, for Bolt to answer
        return
    _keep(task, kind)  # still running, or ended after its ack (a failure then is logged)


def in_background(work: Awaitable[None], *, kind: str) -> None:
    """Start an event's work and return at once (Bolt acknowledges the event itself)."""
    _keep(asyncio.create_task(_awaited(work)), kind)


async def settled() -> None:
    """Wait for every listener task still running (tests and a graceful stop)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)
