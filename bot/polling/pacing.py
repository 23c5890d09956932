"""Sharing one event loop between Slack's requests and a poll cycle.

A poll cycle keeps about a hundred jobs in flight, and each step of a job (read the
answer, work out the view, send `chat.update`) costs a millisecond or two of CPU. When
their answers arrive together, one turn of the event loop runs them all: 100-200 ms in
which an ack, which needs several turns, waits at each one. `Pacer` bounds that: the
poller asks for a turn (`await pacer.turn()`) before each step, and

- at most `per_iteration` steps are let through per turn of the loop, so no turn runs
  long and the cycle's throughput stays what the CPU allows;
- while a Slack request is being answered (`with pacer.serving():`, around the ack),
  no step is let through at all: the poller waits (at most `max_wait` seconds), the ack
  has the loop to itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class Pacer:
    def __init__(self, per_iteration: int = 8, max_wait: float = 1.0) -> None:
        self.per_iteration = per_iteration
        self.max_wait = max_wait
        self._serving = 0
        self._granted = 0
        self._ticking = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    @contextmanager
    def serving(self) -> Iterator[None]:
        """A request is being answered: the poller steps aside until it is."""
        self._serving += 1
        try:
            yield
        finally:
            self._serving -= 1
            if self._serving == 0 and self._waiters:
                self._schedule_tick()

    async def turn(self) -> None:
        """Wait, if need be, until this step of a poll may run."""
        if not self._serving and not self._waiters and self._granted < self.per_iteration:
            self._granted += 1
            self._schedule_tick()
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(self.max_wait, _wake, waiter)
        if not self._serving:
            self._schedule_tick()
        try:
            await waiter
        finally:
            timer.cancel()

    def _schedule_tick(self) -> None:
        if not self._ticking:
            self._ticking = True
            asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        """Runs once per turn of the loop while steps are being let through."""
        self._ticking = False
        self._granted = 0
        if self._serving:
            return  # `serving` schedules the next tick when the request is answered
        while self._waiters and self._granted < self.per_iteration:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._granted += 1
        if self._waiters or self._granted:
            self._schedule_tick()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
