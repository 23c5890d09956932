"""A clock the test moves by hand, for code that takes a clock and a sleep (throttles, timers)."""

from __future__ import annotations

import asyncio
import threading


class ManualClock:
    """A monotonic clock that only moves when told (`advance`), and an `asyncio.sleep` on it:
    a sleeper wakes when the clock reaches the end of its sleep. Sleepers may wait on another
    thread's event loop (the offline stack's); `advance` wakes them there."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    @property
    def sleeping(self) -> int:
        """How many sleeps are waiting for the clock to move."""
        with self._lock:
            return len(self._sleepers)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + seconds, future)
        with self._lock:
            self._sleepers.append(entry)
        try:
            await future
        finally:
            with self._lock:
                if entry in self._sleepers:  # cancelled before the clock got there
                    self._sleepers.remove(entry)

    async def pass_time(self, seconds: float) -> None:
        """A sleep that moves the clock instead of waiting (for code whose waits should
        cost no real time, e.g. the bot's Slack client honouring a fake Slack's Retry-After)."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
            due = [future for end, future in self._sleepers if end <= self.now]
            self._sleepers = [(end, future) for end, future in self._sleepers if end > self.now]
        for future in due:
            future.get_loop().call_soon_threadsafe(_wake, future)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
