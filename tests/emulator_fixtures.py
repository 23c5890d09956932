"""Pytest fixtures: a Gemini tuning API emulator on loopback and a client pointed at it.

`emulator` runs on a frozen clock (1 simulated second per tuning step): jobs only move when
a test calls `emulator.advance(seconds)`. `gemini_client` retries with a recording no-op
sleep, so backoff is instant and the waits it asked for are in `gemini_sleeps`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.gemini import GeminiClient
from bot.google import RetryPolicy
from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator

TEST_KEY = "test-key"


class RecordingSleep:
    """An `asyncio.sleep` stand-in that returns at once and remembers what it was asked."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def emulator_clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def emulator(emulator_clock: FrozenClock) -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(clock=emulator_clock, step_seconds=1.0)) as running:
        yield running


@pytest.fixture
def gemini_sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def gemini_client(
    emulator: RunningEmulator, gemini_sleeps: RecordingSleep
) -> AsyncIterator[GeminiClient]:
    client = GeminiClient(
        TEST_KEY,
        base_url=emulator.url,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        sleep=gemini_sleeps,
    )
    try:
        yield client
    finally:
        await client.aclose()
