"""Slash-command ack latency: bursts of 50 concurrent signed `/tune` requests.

The bot is a real `tunebot run` process in HTTP mode; the fake Slack and the emulator
run in a process of their own (`StandIns`). Requests are signed like Slack signs them,
built in advance, and sent at once over 50 already-open connections with bare asyncio
streams, so the figure is the server's (an HTTP client library in the same process as
the measurement would add its own queueing to every request). Each request is timed
from writing it until the whole answer is read. The commands are a mix of `/tune help`
(help text in the ack), `/tune status` and `/tune datasets` (a database read answered
in the ack).

Baseline, the HTTP floor: the same bursts against the bot's own `/healthz`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

from bench.common import Row, Section, ms, percentile
from bench.stand_ins import StandIns
from standins.loopback import free_port

CONCURRENCY = 50
TARGET_P99 = 0.050
SLACK_LIMIT = 3.0
COMMANDS = ("help", "status", "datasets")
SECRET = "bench-signing-secret"


def signed_command(text: str, user: str, response_url: str) -> bytes:
    body = urlencode(
        {
            "team_id": "T0TEAM",
            "channel_id": "C0GENERAL",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/tune",
            "text": text,
            "response_url": response_url,
            "trigger_id": f"bench.{user}.{time.monotonic_ns()}",
            "api_app_id": "A0TUNEBOT",
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = (
        "v0="
        + hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


HEALTH = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


async def _timed(port: int, request: bytes, settle: float = 0.05) -> tuple[float, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.sleep(settle)  # every connection is open before the burst starts
    started = time.perf_counter()
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    await reader.readexactly(length)
    elapsed = time.perf_counter() - started
    writer.close()
    return elapsed, status


async def _bursts(port: int, response_url: str, bursts: int) -> tuple[list[float], list[float], list[int]]:
    acks: list[float] = []
    floor: list[float] = []
    statuses: list[int] = []
    for burst in range(bursts + 1):  # the first burst warms up and is not counted
        requests = [
            signed_command(COMMANDS[i % len(COMMANDS)], f"U0BENCH{i % 10:02d}", response_url)
            for i in range(CONCURRENCY)
        ]
        results = await asyncio.gather(*(_timed(port, r) for r in requests))
        await asyncio.sleep(0.3)
        health = await asyncio.gather(*(_timed(port, HEALTH) for _ in range(CONCURRENCY)))
        await asyncio.sleep(0.2)
        if burst:
            acks.extend(e for e, _ in results)
            statuses.extend(s for _, s in results)
            floor.extend(e for e, _ in health)
    return acks, floor, statuses


SEQUENTIAL = 100  # requests of each command, one at a time
TARGET_ONE = 0.010  # Bolt's own ack check ran every 10 ms: one ack alone took at least that


async def _one_at_a_time(port: int, response_url: str) -> tuple[list[float], list[float]]:
    """The same commands sent one after another (each alone on the server), and `/healthz`."""
    acks: list[float] = []
    floor: list[float] = []
    for i in range(SEQUENTIAL * len(COMMANDS) + 10):  # the first 10 warm up
        request = signed_command(COMMANDS[i % len(COMMANDS)], f"U0BENCH{i % 10:02d}", response_url)
        elapsed, _ = await _timed(port, request, settle=0.0)
        health, _ = await _timed(port, HEALTH, settle=0.0)
        if i >= 10:
            acks.append(elapsed)
            floor.append(health)
    return acks, floor


def _start_bot(
    stand_ins: StandIns, workdir: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "TUNEBOT_", "GEMINI_", "GOOGLE_"))
        },
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": stand_ins.slack_api_url,
        "GOOGLE_API_KEY": "bench-key",
        "TUNEBOT_BACKEND": "gemini",
        "GEMINI_API_BASE": stand_ins.emulator_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'tunebot.db'}",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process, port
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("tunebot run did not start")


def ack_rows(
    label: str, acks: list[float], floor: list[float], *, ok: bool, target_p99: float = TARGET_P99
) -> list[Row]:
    """p50 and p99 of acks beside the `/healthz` floor of the same run; the p99 graded."""
    p50, p99 = percentile(acks, 50), percentile(acks, 99)
    f50, f99 = percentile(floor, 50), percentile(floor, 99)
    return [
        Row(
            f"{label}, p50",
            ms(p50),
            f"{ms(f50)} (`/healthz`)",
            "-",
            ok,
            value=p50,
            baseline_value=f50,
            graded=False,
        ),
        Row(
            f"{label}, p99",
            ms(p99),
            f"{ms(f99)} (`/healthz`)",
            f"< {target_p99 * 1000:.0f} ms (Slack: {SLACK_LIMIT * 1000:,.0f} ms)",
            ok and p99 < target_p99,
            value=p99,
            baseline_value=f99,
        ),
    ]


def run(quick: bool = False) -> Section:
    bursts = 2 if quick else 6
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp, StandIns() as stand_ins:
        process, port = _start_bot(stand_ins, Path(tmp))
        try:
            acks, floor, statuses = asyncio.run(
                _bursts(port, stand_ins.slack_url + "/response/bench", bursts)
            )
            alone, alone_floor = asyncio.run(_one_at_a_time(port, stand_ins.slack_url + "/response/bench"))
        finally:
            process.terminate()
            process.wait(10)
    bad = [s for s in statuses if s != 200]
    worst = max(acks)
    label = f"`/tune` ack, {CONCURRENCY} concurrent signed requests, {bursts} bursts"
    rows = ack_rows(label, acks, floor, ok=not bad)
    one = percentile(alone, 50)
    rows.append(
        Row(
            f"`/tune` ack, one request at a time ({SEQUENTIAL} of each command), p50",
            ms(one),
            f"{ms(percentile(alone_floor, 50))} (`/healthz`)",
            f"< {TARGET_ONE * 1000:.0f} ms (Bolt's own 10 ms ack check)",
            one < TARGET_ONE,
            value=one,
            baseline_value=percentile(alone_floor, 50),
        )
    )
    details = {
        "requests": len(acks),
        "non_200": len(bad),
        "max_ms": round(worst * 1000, 2),
        "healthz_max_ms": round(max(floor) * 1000, 2),
        "commands": list(COMMANDS),
        "setup": "tunebot run (HTTP mode) as its own process; stand-ins in another; raw asyncio client",
    }
    return Section("ack_latency", rows, details)
