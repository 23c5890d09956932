"""A try reply in a 20-turn thread against one in a new thread (one turn), no emulated latency.

What tunebot does for a reply besides the Slack calls (bot/slack/conversation.py
`answer_in_thread`): read the thread's turns and system instruction from the database
(SQLite in a temporary directory), fit them to the token budget, send them with the prompt
to the emulator (its own process, no added latency) and store the new exchange. Each reply
goes to a thread of its own, so every long reply sends exactly 20 earlier turns. The figure
is the median time of a 20-turn reply minus that of a one-turn reply timed in the same run,
interleaved; the emulator's own work shows in both, so the difference is tunebot's (plus the
emulator reading a longer body).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Row, Section
from bench.stand_ins import StandIns
from bot.backends.gemini_backend import GeminiBackend
from bot.config import Settings
from bot.datasets.insight import estimate_tokens
from bot.gemini import GeminiClient
from bot.services.conversation import conversation_for
from bot.storage.store import Store

TURNS = 20
TARGET_MS = 20.0
CHANNEL = "C0BENCH"
# A question and answer of a plausible length (about 60 and 120 tokens).
QUESTION = "How do I reset the password of a shared team account when the owner has left? " * 3
ANSWER = "Open the admin console, choose Accounts, pick the shared account and use Reset. " * 6


def _seed(store: Store, thread_ts: str, model: str, earlier_turns: int) -> None:
    store.threads.add(channel_id=CHANNEL, thread_ts=thread_ts, model_name=model, user_id="U0BENCH")
    for _ in range(earlier_turns // 2):
        store.threads.add_exchange(CHANNEL, thread_ts, QUESTION, {"tuned": ANSWER})


async def _reply(store: Store, backend: GeminiBackend, model: str, thread_ts: str, budget: int) -> float:
    started = time.perf_counter()
    fitted = await conversation_for(
        store,
        channel_id=CHANNEL,
        thread_ts=thread_ts,
        model_name=model,
        prompt=QUESTION,
        lane="tuned",
        budget_tokens=budget,
    )
    answer = await backend.generate(model, QUESTION, conversation=fitted.conversation)
    await store.run(store.threads.add_exchange, CHANNEL, thread_ts, QUESTION, {"tuned": answer})
    elapsed = time.perf_counter() - started
    if len(fitted.conversation.history) != (TURNS if thread_ts.startswith("long") else 0):
        raise AssertionError(f"{thread_ts} sent {len(fitted.conversation.history)} earlier turns")
    return elapsed


async def _measure(emulator_url: str, model: str, samples: int) -> tuple[list[float], list[float]]:
    budget = Settings(_env_file=None).try_context_tokens  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory() as folder:
        store = Store.from_url(f"sqlite:///{Path(folder) / 'bench.db'}")
        for i in range(samples + 1):
            _seed(store, f"long-{i}", model, TURNS)
            _seed(store, f"short-{i}", model, 0)
        async with GeminiClient("bench-key", base_url=emulator_url) as client:
            backend = GeminiBackend(client)
            await _reply(store, backend, model, f"long-{samples}", budget)  # warm up
            await _reply(store, backend, model, f"short-{samples}", budget)
            long, short = [], []
            for i in range(samples):
                long.append(await _reply(store, backend, model, f"long-{i}", budget))
                short.append(await _reply(store, backend, model, f"short-{i}", budget))
        store.engine.dispose()
    return long, short


def run(quick: bool = False) -> Section:
    samples = 20 if quick else 100
    with StandIns() as stand_ins:
        [[model, _operation, _ts, _steps]] = stand_ins.call("seed", jobs=1)["jobs"]
        stand_ins.call("advance", seconds=3600)
        long, short = asyncio.run(_measure(stand_ins.emulator_url, model, samples))
    long_ms, short_ms = statistics.median(long) * 1000, statistics.median(short) * 1000
    added = long_ms - short_ms
    tokens = TURNS // 2 * (estimate_tokens(QUESTION) + estimate_tokens(ANSWER))
    label = f"Try reply with {TURNS} earlier turns (about {tokens:,} tokens), no emulated latency"
    rows = [
        Row(
            f"{label}: added time, median",
            f"+{added:.1f} ms ({long_ms:.1f} ms)",
            f"{short_ms:.1f} ms (one-turn reply)",
            f"< {TARGET_MS:.0f} ms added",
            added < TARGET_MS,
            value=added / 1000,
            baseline_value=short_ms / 1000,
        )
    ]
    return Section("try_context", rows, {"samples": samples, "long_ms": long_ms, "short_ms": short_ms})
