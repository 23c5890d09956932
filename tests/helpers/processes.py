"""Real `tunebot run` processes for tests that restart, kill or run several replicas."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from standins.loopback import free_port

# The signing secret of the bot processes the crash and restart tests run (with the `services`
# fixture's fake Slack).
SECRET = "crash-test-signing-secret"


class PortTaken(Exception):
    """Another process bound the chosen port first."""


class BotProcess:
    """`python -m bot.cli run` in HTTP mode with the given settings, in its own process."""

    def __init__(self, env: dict[str, str], workdir: Path, name: str = "bot") -> None:
        self.port = free_port()
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "TUNEBOT_", "GEMINI_", "GOOGLE_"))
            },
            **env,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
        }
        self.workdir = workdir
        self.log_path = workdir / f"{name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> BotProcess:
        for _attempt in range(3):
            try:
                return self._start(timeout)
            except PortTaken:
                # The free port was taken before the bot bound it: try another one.
                self.port = free_port()
                self.env["PORT"] = str(self.port)
        return self._start(timeout)

    def _start(self, timeout: float) -> BotProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.log()
                if "address already in use" in output.rsplit("tunebot listening", 1)[-1]:
                    self.log_path.write_text("")
                    raise PortTaken(self.port)
                raise RuntimeError(f"tunebot exited with {self.process.returncode}:\n{output}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"tunebot did not answer on {self.url}:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
