"""Acks while tunebot is busy, and memory while it refuses a huge unauthenticated body.

Each row runs a real `tunebot run` (HTTP mode) with the stand-ins in their own process,
and sends signed `/tune help` (or `/tune`) requests one after another on fresh
connections (raw asyncio streams, as in `ack_latency`), each timed from writing it to
reading the whole answer:

- **uploads**: 20 CSV files of 5 MB attached to `@tunebot` mentions at once; the acks
  sent until all 20 uploaders were answered. Baseline: the same series on the idle bot.
- **poll cycle**: 1,000 running jobs in the bot's database, 50 ms emulated API latency,
  the scheduler's first cycle after 4 s; the acks sent while that cycle runs (from the
  first to the last `operations.get`). Baseline: the acks before it began.
- **unsigned 100 MB POST**: peak RSS (VmHWM, reset through /proc/PID/clear_refs) over
  the idle RSS while one POST announcing and then streaming 100 MB reaches
  `/slack/events`, and one chunked POST without a length. Baseline: the same for a 1 KiB
  unsigned POST.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ack_latency import SECRET, _start_bot, _timed, signed_command
from bench.common import Row, Section, ms, percentile, read_status_kib
from bench.poll_cycle import _seed
from bench.stand_ins import StandIns
from bot.config import Settings
from bot.runtime import build_runtime
from bot.slack.door import MAX_BODY_BYTES

TARGET_P99 = 0.100
TARGET_RSS_KIB = 20 * 1024
UPLOADS = 20
UPLOAD_BYTES = 5 * 1024 * 1024
JOBS = 1000


async def _ack_series(
    port: int, response_url: str, until: Any, text: str = "help"
) -> list[tuple[float, float]]:
    """(sent at, latency) of acks sent one after another until `until()` is true."""
    samples: list[tuple[float, float]] = []
    while not until():
        sent_at = time.monotonic()
        elapsed, status = await _timed(port, signed_command(text, "U0BENCH01", response_url))
        if status != 200:
            raise RuntimeError(f"ack answered {status}")
        samples.append((sent_at, elapsed))
        await asyncio.sleep(0.02)
    return samples


def _signed_event(event: dict[str, Any]) -> bytes:

    body = json.dumps(
        {
            "token": "legacy",
            "team_id": "T0TEAM",
            "api_app_id": "A0TUNEBOT",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
        }
    ).encode()
    timestamp = str(int(time.time()))
    signature = (
        "v0=" + hmac.new(SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    )
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


def _uploads(quick: bool) -> list[Row]:
    uploads = 4 if quick else UPLOADS
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp, StandIns() as stand_ins:
        process, port = _start_bot(stand_ins, Path(tmp))
        response_url = stand_ins.slack_url + "/response/bench"
        try:
            files = [
                stand_ins.call("add_file", name=f"upload-{n}.csv", bytes=UPLOAD_BYTES, user=f"U0UP{n:04d}")[
                    "file"
                ]
                for n in range(uploads)
            ]

            async def measure() -> tuple[list[float], list[float], float]:
                stop = time.monotonic() + (1.5 if quick else 4.0)
                idle = [e for _, e in await _ack_series(port, response_url, lambda: time.monotonic() > stop)]
                events = [
                    _signed_event(
                        {
                            "type": "app_mention",
                            "user": f"U0UP{n:04d}",
                            "text": "<@U0BOT> data",
                            "ts": f"{time.time():.6f}",
                            "channel": "C0GENERAL",
                            "event_ts": f"{time.time():.6f}",
                            "files": [file],
                        }
                    )
                    for n, file in enumerate(files)
                ]
                started = time.monotonic()
                await asyncio.gather(*(_timed(port, e) for e in events))
                answered = {"n": 0, "checked": 0.0}

                def all_answered() -> bool:
                    if time.monotonic() - answered["checked"] > 0.25:
                        answered["checked"] = time.monotonic()
                        answered["n"] = stand_ins.call("ephemerals")["count"]
                    return answered["n"] >= uploads or time.monotonic() - started > 120

                busy = [e for _, e in await _ack_series(port, response_url, all_answered)]
                return idle, busy, time.monotonic() - started

            idle, busy, took = asyncio.run(measure())
            texts = stand_ins.call("ephemerals")["texts"]
        finally:
            process.terminate()
            process.wait(10)
    stored = sum("Stored dataset" in t or "already stored" in t for t in texts)
    p99, base = percentile(busy, 99), percentile(idle, 99)
    return [
        Row(
            f"`/tune help` ack p99 while {uploads} uploads of 5 MB are validated "
            f"({len(busy)} acks, {took:.1f} s)",
            ms(p99),
            f"{ms(base)} (idle bot)",
            f"< {TARGET_P99 * 1000:.0f} ms",
            p99 < TARGET_P99 and stored == uploads,
            value=p99,
            baseline_value=base,
            note=f"max {ms(max(busy))}; {stored}/{uploads} uploads stored and answered",
        )
    ]


def _poll_cycle(quick: bool) -> list[Row]:
    jobs = 200 if quick else JOBS
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp, StandIns() as stand_ins:
        database = f"sqlite:///{Path(tmp) / 'tunebot.db'}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET="x",
            SLACK_API_URL=stand_ins.slack_api_url,
            GOOGLE_API_KEY="bench-key",
            TUNEBOT_BACKEND="gemini",
            GEMINI_API_BASE=stand_ins.emulator_url,
            DATABASE_URL=database,
        )
        runtime = build_runtime(settings)
        _seed(runtime, stand_ins.call("seed", jobs=jobs)["jobs"])
        runtime.ctx.store.engine.dispose()
        stand_ins.call("advance", seconds=10)
        stand_ins.call("faults", changes={"latency_seconds": 0.050})
        stand_ins.call("reset_stats")
        process, port = _start_bot(
            stand_ins, Path(tmp), {"TUNEBOT_POLL_INTERVAL": "4", "DATABASE_URL": database}
        )
        response_url = stand_ins.slack_url + "/response/bench"
        marks: list[tuple[float, int]] = []
        try:

            async def measure() -> list[tuple[float, float]]:
                deadline = time.monotonic() + 40
                state = {"checked": 0.0, "ended": 0.0}

                def done() -> bool:
                    # Acks go on for 1.5 s after the cycle has polled every job: those, and any
                    # before it began, are the baseline (the same idle process).
                    now = time.monotonic()
                    if state["ended"]:
                        return now > state["ended"] + 1.5
                    if now - state["checked"] > 0.1:
                        state["checked"] = now
                        polls = stand_ins.call("stats")["emulator"]["by_method"].get("operations.get", 0)
                        marks.append((now, int(polls)))
                        if polls >= jobs:
                            state["ended"] = now
                    return now > deadline

                return await _ack_series(port, response_url, done, text="")

            samples = asyncio.run(measure())
        finally:
            process.terminate()
            process.wait(10)
    began = next((t for t, n in marks if n > 0), None)
    ended = next((t for t, n in marks if n >= jobs), None)
    if began is None or ended is None:
        raise RuntimeError("the poll cycle did not run")
    during = [e for t, e in samples if began - 0.1 <= t <= ended]
    idle = [e for t, e in samples if t < began - 0.1 or t > ended + 0.1]
    p99, base = percentile(during, 99), percentile(idle, 99)
    return [
        Row(
            f"`/tune` ack p99 while a {jobs:,}-job poll cycle runs in the same process ({len(during)} acks)",
            ms(p99),
            f"{ms(base)} (same process, outside the cycle; {len(idle)} acks)",
            f"< {TARGET_P99 * 1000:.0f} ms",
            p99 < TARGET_P99,
            value=p99,
            baseline_value=base,
            note=f"max {ms(max(during))}; cycle took {ended - began:.1f} s",
        )
    ]


def _post(port: int, total: int, *, chunked: bool) -> int:
    """Stream an unsigned POST of `total` bytes; the HTTP status the bot answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
        head = "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall(f"{head}{length}\r\n\r\n".encode())
        block = b"x" * 65536
        sent = 0
        try:
            while sent < total:
                part = block[: min(len(block), total - sent)]
                sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the bot closed the connection after refusing: expected
        answer = sock.recv(1024)
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


def _peak_over_idle(pid: int, port: int, total: int, chunked: bool) -> tuple[int, int]:
    idle = read_status_kib(pid, "VmRSS")
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the high-water mark
    status = _post(port, total, chunked=chunked)
    time.sleep(0.2)
    return read_status_kib(pid, "VmHWM") - idle, status


def _big_post(quick: bool) -> list[Row]:
    total = (20 if quick else 100) * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp, StandIns() as stand_ins:
        process, port = _start_bot(stand_ins, Path(tmp))
        try:
            time.sleep(1.0)
            base, base_status = _peak_over_idle(process.pid, port, 1024, chunked=False)
            big, status = _peak_over_idle(process.pid, port, total, chunked=False)
            chunked, chunked_status = _peak_over_idle(process.pid, port, total, chunked=True)
            idle = read_status_kib(process.pid, "VmRSS")
        finally:
            process.terminate()
            process.wait(10)
    worst = max(big, chunked)
    return [
        Row(
            f"Peak RSS over idle while an unsigned {total // (1024 * 1024)} MB POST is refused",
            f"+{worst / 1024:.1f} MB",
            f"+{base / 1024:.1f} MB (unsigned 1 KiB POST)",
            f"< {TARGET_RSS_KIB // 1024} MB over idle",
            worst < TARGET_RSS_KIB and status == 413 and chunked_status == 413 and base_status == 401,
            value=worst / 1024,
            baseline_value=base / 1024,
            note=(
                f"answers {status} (Content-Length), {chunked_status} (chunked), {base_status} (1 KiB); "
                f"idle RSS {idle / 1024:.0f} MB; body limit {MAX_BODY_BYTES // 1024} KiB"
            ),
        )
    ]


def run(quick: bool = False) -> Section:
    rows = [*_uploads(quick), *_poll_cycle(quick), *_big_post(quick)]
    return Section("under_load", rows, {"setup": __doc__.strip().splitlines()[0] if __doc__ else ""})
