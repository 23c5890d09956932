"""The `tunebot` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bot.loopback import free_port


def clean_env(tmp_path: Path) -> dict[str, str]:
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GOOGLE_", "GEMINI_", "TUNEBOT_"))
    }
    return {**keep, "HOME": str(tmp_path)}


def test_run_without_credentials_says_what_to_set(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "GOOGLE_API_KEY",
        "manifest.yml",
    ):
        assert name in result.stderr
    assert "tunebot demo" in result.stderr
    assert not (tmp_path / "tunebot.db").exists()


def test_run_offline_without_credentials_runs_the_demo(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--offline"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        input="/tune help\nquit\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "/tune upload" in result.stdout and "only visible to you" in result.stdout


def start_emulator_process(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`tunebot emulator` on a free port (another, should that port be taken meanwhile)."""
    for _attempt in range(3):
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "emulator", "--port", str(port), "--step-seconds", "0.01"],
            env=clean_env(tmp_path),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1beta/models", timeout=1)
                return process, port
            except httpx.HTTPError:
                time.sleep(0.1)
        process.kill()
        process.wait(10)
    raise AssertionError("the emulator did not start")


def test_the_emulator_command_serves_the_api(tmp_path: Path) -> None:
    process, port = start_emulator_process(tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/v1beta/tunedModels"
        response = httpx.get(url, headers={"x-goog-api-key": "any"}, timeout=5)
        assert response.status_code == 200 and response.json() == {}
        assert httpx.get(url, timeout=5).json()["error"]["status"] in ("PERMISSION_DENIED", "UNAUTHENTICATED")
    finally:
        process.terminate()
        process.wait(10)
