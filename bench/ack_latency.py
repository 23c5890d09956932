"""Slash-command ack latency: bursts of 50 concurrent signed `/tune` requests.

The real bot (Bolt + Starlette on uvicorn, loopback HTTP) with the fake Slack and the
emulator behind it (`OfflineStack`). Each request is signed like Slack signs it and
timed from sending until the ack body is read (`SentRequest.elapsed`). The commands
are a mix of `/tune help` (answered in the ack), `/tune status` and `/tune datasets`
(acked at once, then a database read and a `response_url` post in the listener, on
the same event loop as the following acks).

Baseline, the HTTP floor: the same bursts of 50 concurrent GETs to the bot's own
`/healthz` on the same uvicorn server, from the same kind of pooled httpx client.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Row, Section, ms, percentile
from bot.fakeslack import SlackRequestSender
from bot.offline import OfflineConfig, OfflineStack

CONCURRENCY = 50
TARGET_P99 = 0.050
SLACK_LIMIT = 3.0
COMMANDS = ("help", "status", "datasets")
USERS = tuple(f"U0BENCH{i:02d}" for i in range(10))


async def _burst(sender: SlackRequestSender, size: int) -> list[tuple[str, float, int]]:
    texts = [COMMANDS[i % len(COMMANDS)] for i in range(size)]
    sent = await asyncio.gather(
        *(sender.slash_command(USERS[i % len(USERS)], text) for i, text in enumerate(texts))
    )
    return [(text, s.elapsed, s.status_code) for text, s in zip(texts, sent, strict=True)]


async def _health_burst(client: httpx.AsyncClient, url: str, size: int) -> list[float]:
    async def one() -> float:
        started = time.perf_counter()
        response = await client.get(url)
        await response.aread()
        response.raise_for_status()
        return time.perf_counter() - started

    return list(await asyncio.gather(*(one() for _ in range(size))))


async def _measure(stack: OfflineStack, bursts: int) -> tuple[list[tuple[str, float, int]], list[float]]:
    assert stack.sender is not None and stack.server is not None
    sender = stack.sender
    health_url = stack.server.url + "/healthz"
    async with httpx.AsyncClient(timeout=10.0) as client:
        # warm up: imports, connection pools, SQLite pages, Bolt's listener machinery
        for text in COMMANDS * 5:
            await sender.slash_command(USERS[0], text)
        await _burst(sender, CONCURRENCY)
        await _health_burst(client, health_url, CONCURRENCY)
        await asyncio.sleep(0.5)
        acks: list[tuple[str, float, int]] = []
        floor: list[float] = []
        for _ in range(bursts):
            acks.extend(await _burst(sender, CONCURRENCY))
            await asyncio.sleep(0.3)  # let the listeners' response_url posts finish
            floor.extend(await _health_burst(client, health_url, CONCURRENCY))
            await asyncio.sleep(0.1)
        await sender.aclose()
    return acks, floor


def run(quick: bool = False) -> Section:
    bursts = 2 if quick else 6
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp:
        config = OfflineConfig(database_url=f"sqlite:///{Path(tmp) / 'tunebot.db'}")
        with OfflineStack(config) as stack:
            for user in USERS:
                stack.workspace.add_user(user, user.lower())
            acks, floor = asyncio.run(_measure(stack, bursts))
    times = [elapsed for _, elapsed, _ in acks]
    bad = [status for _, _, status in acks if status != 200]
    p50, p99, worst = percentile(times, 50), percentile(times, 99), max(times)
    f50, f99 = percentile(floor, 50), percentile(floor, 99)
    by_command = {
        cmd: {
            "p50_ms": round(percentile([e for c, e, _ in acks if c == cmd], 50) * 1000, 2),
            "p99_ms": round(percentile([e for c, e, _ in acks if c == cmd], 99) * 1000, 2),
        }
        for cmd in COMMANDS
    }
    label = f"`/tune` ack, {CONCURRENCY} concurrent signed requests, {bursts} bursts"
    rows = [
        Row(
            f"{label}, p50",
            ms(p50),
            f"{ms(f50)} (`/healthz`)",
            "-",
            not bad,
            value=p50,
            baseline_value=f50,
            graded=False,
        ),
        Row(
            f"{label}, p99",
            ms(p99),
            f"{ms(f99)} (`/healthz`)",
            f"< {TARGET_P99 * 1000:.0f} ms (Slack: {SLACK_LIMIT * 1000:,.0f} ms)",
            not bad and p99 < TARGET_P99,
            value=p99,
            baseline_value=f99,
        ),
    ]
    details = {
        "requests": len(acks),
        "non_200": len(bad),
        "max_ms": round(worst * 1000, 2),
        "healthz_max_ms": round(max(floor) * 1000, 2),
        "by_command": by_command,
        "commands": list(COMMANDS),
    }
    return Section("ack_latency", rows, details)
