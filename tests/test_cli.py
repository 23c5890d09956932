"""The `tunebot` command as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from standins.loopback import free_port


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
        "VERTEX_PROJECT",
        "VERTEX_BUCKET",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "manifest.yml",
    ):
        assert name in result.stderr
    # Vertex AI (the default) leads; the Gemini API is named as the legacy service after it.
    vertex = result.stderr.index("Vertex AI (the default, TUNEBOT_BACKEND=vertex)")
    assert vertex < result.stderr.index("Slack:") < result.stderr.index("(the legacy service")
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
    assert "/tune upload" in result.stdout and "only visible to you" in result.stdout
    assert "tuning on Vertex AI" in result.stdout  # the default backend, against the emulator


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


def run_cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env={**clean_env(tmp_path), **(env or {})},
        cwd=tmp_path,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "TUNEBOT_BACKEND=openai",
            "tunebot: TUNEBOT_BACKEND=openai is not valid; allowed values: gemini, vertex.",
        ),
        ("PORT=abc", "tunebot: PORT=abc is not valid; it must be a whole number."),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path, setting: str, expected: str) -> None:
    name, _, value = setting.partition("=")
    result = run_cli(tmp_path, "run", env={name: value})
    assert result.returncode == 2
    assert result.stderr.strip() == expected


def test_run_offline_forces_the_demo_even_with_credentials(tmp_path: Path) -> None:
    credentials = {
        "SLACK_BOT_TOKEN": "xoxb-real-looking",
        "SLACK_SIGNING_SECRET": "secret",
        "GOOGLE_API_KEY": "key",
    }
    result = run_cli(tmp_path, "run", "--offline", env=credentials, stdin="/tune help\nquit\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "/tune upload" in result.stdout and "only visible to you" in result.stdout
    assert not (tmp_path / "tunebot.db").exists()


def test_help_texts_describe_each_command(tmp_path: Path) -> None:
    run_help = run_cli(tmp_path, "run", "--help").stdout
    assert "Socket Mode" in run_help and "--offline" in run_help
    demo_help = run_cli(tmp_path, "demo", "--help").stdout
    assert "--script FILE" in demo_help and "(default: 0.05)" in demo_help
    emulator_help = run_cli(tmp_path, "emulator", "--help").stdout
    assert "Vertex AI" in emulator_help and "tuningJobs" in emulator_help and "Cloud Storage" in emulator_help


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "LOG_LEVEL=verbose",
            "tunebot: LOG_LEVEL=verbose is not valid; allowed values: DEBUG, INFO, WARNING, ERROR, CRITICAL "
            "(in any case).",
        ),
        (
            "DATABASE_URL=mysql://root:hunter2@db.internal/tunebot",
            "tunebot: DATABASE_URL=mysql://… is not valid; tunebot takes sqlite:///PATH or "
            "postgresql://USER@HOST/DATABASE, not mysql.",
        ),
        (
            "DATABASE_URL=not a url",
            "tunebot: DATABASE_URL=… is not valid; tunebot takes sqlite:///PATH or postgresql://USER@HOST/DATABASE.",
        ),
        (
            "TUNEBOT_POLL_INTERVAL=0",
            "tunebot: TUNEBOT_POLL_INTERVAL=0 is not valid; it must be greater than 0.",
        ),
        (
            "TUNEBOT_POLL_INTERVAL=-5",
            "tunebot: TUNEBOT_POLL_INTERVAL=-5 is not valid; it must be greater than 0.",
        ),
        (
            "TUNEBOT_LEASE_SECONDS=0",
            "tunebot: TUNEBOT_LEASE_SECONDS=0 is not valid; it must be greater than 0.",
        ),
        ("TUNEBOT_MAX_UPLOAD_MB=0", "tunebot: TUNEBOT_MAX_UPLOAD_MB=0 is not valid; it must be at least 1."),
        ("PORT=70000", "tunebot: PORT=70000 is not valid; it must be at most 65535."),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2_without_a_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    expected: str,
) -> None:
    from bot.cli import main

    for name in os.environ:
        if name.startswith(("SLACK_", "GOOGLE_", "GEMINI_", "TUNEBOT_", "VERTEX_")) or name in (
            "LOG_LEVEL",
            "DATABASE_URL",
            "PORT",
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    name, _, value = setting.partition("=")
    monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    said = capsys.readouterr()
    assert said.err.strip() == expected
    assert "hunter2" not in said.err + said.out
    assert not (tmp_path / "tunebot.db").exists()


@pytest.mark.parametrize("value", ["Vertex", "VERTEX", " vertex "])
def test_a_backend_name_is_taken_in_any_case(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    from bot.config import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TUNEBOT_BACKEND", value)
    assert Settings().tunebot_backend == "vertex"
