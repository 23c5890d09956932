"""Idle RSS of `tunebot run` in HTTP mode.

`tunebot run` is started as its own process (working directory: an empty temporary
folder, so no `.env` is read) pointed at an emulator and a fake Slack served from this
process, with SQLite in the temporary folder. Once `/healthz` answers, one signed
`/tune help` and one `/tune status` are sent so that what is imported lazily on the
first request is loaded; after a pause VmRSS is read from /proc/PID/status.

Baseline: a bare `python -c "import time; time.sleep(30)"` of the same interpreter.
Also measured: what drawing a loss chart would add (importing matplotlib's Agg
canvas, as `bot.presentation.chart` does on first use) and whether matplotlib is mapped into
the idle bot (it must not be: it is imported only when the first chart is drawn).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import Row, Section, read_status_kib
from standins.emulator.running import start_emulator
from standins.fakeslack import FakeSlack
from standins.loopback import free_port

TARGET_KIB = 150 * 1024
SIGNING_SECRET = "bench-signing-secret"
SETTLE_SECONDS = 3.0

_CHART_DELTA = """
import sys
from pathlib import Path

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

import bot.runtime
before = rss()
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
print(before, rss())
"""


def tunebot_command() -> list[str]:
    script = Path(sys.executable).parent / "tunebot"
    if script.exists():
        return [str(script), "run"]
    found = shutil.which("tunebot")
    return [found, "run"] if found else [sys.executable, "-m", "bot.cli", "run"]


def _wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> float:
    started = time.perf_counter()
    deadline = started + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tunebot run exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise TimeoutError("tunebot run did not answer /healthz")


def _matplotlib_mapped(pid: int) -> bool:
    return "/matplotlib/" in Path(f"/proc/{pid}/maps").read_text()


def _bare_python_rss() -> int:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        time.sleep(0.5)
        return read_status_kib(process.pid, "VmRSS")
    finally:
        process.kill()
        process.wait()


def _chart_delta() -> tuple[int, int]:
    out = subprocess.run([sys.executable, "-c", _CHART_DELTA], capture_output=True, text=True, check=True)
    before, after = out.stdout.split()
    return int(before), int(after)


def run(quick: bool = False) -> Section:
    settle = 1.0 if quick else SETTLE_SECONDS
    slack = FakeSlack().start()
    emulator = start_emulator()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("SLACK_", "GOOGLE_", "GEMINI_", "TUNEBOT_", "DATABASE_"))
        }
        env.update(
            {
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": slack.api_url,
                "GOOGLE_API_KEY": "bench-key",
                "TUNEBOT_BACKEND": "gemini",
                "GEMINI_API_BASE": emulator.url,
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'tunebot.db'}",
                "HOST": "127.0.0.1",
                "PORT": str(port),
                "LOG_LEVEL": "WARNING",
            }
        )
        log_path = Path(tmp) / "tunebot.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(tunebot_command(), cwd=tmp, env=env, stdout=log, stderr=log)
            try:
                bot_url = f"http://127.0.0.1:{port}"
                ready = _wait_healthy(bot_url + "/healthz", process)
                sender = slack.sender(bot_url, SIGNING_SECRET)

                async def first_requests() -> list[int]:
                    async with sender:
                        help_ = await sender.slash_command("U0BENCH", "help")
                        status = await sender.slash_command("U0BENCH", "status")
                        return [help_.status_code, status.status_code]

                statuses = asyncio.run(first_requests())
                time.sleep(settle)
                rss = read_status_kib(process.pid, "VmRSS")
                hwm = read_status_kib(process.pid, "VmHWM")
                matplotlib_loaded = _matplotlib_mapped(process.pid)
            finally:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        log_tail = log_path.read_text(errors="replace")[-2000:]
    emulator.stop()
    slack.stop()
    bare = _bare_python_rss()
    before_chart, after_chart = _chart_delta()
    chart_delta = after_chart - before_chart
    ok = statuses == [200, 200]
    rows = [
        Row(
            "`tunebot run` (HTTP mode) idle RSS",
            f"{rss / 1024:.0f} MB",
            f"{bare / 1024:.0f} MB (bare `python` sleeping)",
            f"< {TARGET_KIB // 1024} MB",
            ok and rss < TARGET_KIB,
            value=rss / 1024,
            baseline_value=bare / 1024,
            note=(
                f"matplotlib {'IS' if matplotlib_loaded else 'not'} loaded at idle; "
                f"first chart adds {chart_delta / 1024:.0f} MB"
            ),
        )
    ]
    details = {
        "rss_mb": round(rss / 1024, 1),
        "peak_rss_mb": round(hwm / 1024, 1),
        "bare_python_rss_mb": round(bare / 1024, 1),
        "matplotlib_loaded_at_idle": matplotlib_loaded,
        "matplotlib_import_delta_mb": round(chart_delta / 1024, 1),
        "healthz_after_seconds": round(ready, 2),
        "first_request_statuses": statuses,
        "command": tunebot_command(),
        "log_tail": log_tail,
    }
    return Section("idle_rss", rows, details)
