"""Helpers for tests that talk to the tuning-API emulator (its fixtures are in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.datasets.samples import TUTORIAL_EXAMPLES
from bot.gemini import GeminiClient, TuningExample
from standins.offline import OFFLINE_API_KEY, OfflineStack

TEST_KEY = "test-key"

TUTORIAL_TUNING_EXAMPLES = [
    TuningExample(text_input=e.text_input, output=e.output) for e in TUTORIAL_EXAMPLES
]


class RecordingSleep:
    """An `asyncio.sleep` stand-in that returns at once and remembers what it was asked
    (and, given `then`, passes each wait on to it, e.g. a manual clock's `pass_time`)."""

    def __init__(self, then: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.calls: list[float] = []
        self.then = then

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.then is not None:
            await self.then(seconds)


async def outside_models(stack: OfflineStack, count: int) -> list[str]:
    """Models created straight through the API, not through tunebot."""
    assert stack.emulator is not None
    names = []
    async with GeminiClient(OFFLINE_API_KEY, base_url=stack.emulator.url) as client:
        for n in range(count):
            operation = await client.create_tuned_model(
                display_name=f"outside {n:02d}",
                base_model="models/gemini-1.5-flash-001-tuning",
                examples=TUTORIAL_TUNING_EXAMPLES,
                epoch_count=1,
                batch_size=15,
                learning_rate=0.001,
            )
            assert operation.metadata is not None and operation.metadata.tuned_model
            names.append(operation.metadata.tuned_model)
    stack.emulator.advance(60)
    return names
