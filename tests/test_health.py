"""The Docker HEALTHCHECK command (`tunebot health`) against both ways of running the bot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.health import socket_mode_health_app
from standins.fakeslack import FakeSlack
from standins.loopback import BackgroundServer, free_port
from tests.helpers.processes import BotProcess


def health_check(port: int) -> subprocess.CompletedProcess[str]:
    """What Docker runs: `tunebot health`, PORT from the environment."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "health"],
        env={"PORT": str(port), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_http_mode_is_healthy(tmp_path: Path) -> None:
    with FakeSlack().serve() as slack:
        env = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": slack.api_url,
            "GOOGLE_API_KEY": "key",
            "TUNEBOT_BACKEND": "gemini",
            "GEMINI_API_BASE": "http://127.0.0.1:1",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'tunebot.db'}",
        }
        bot = BotProcess(env, tmp_path).start()
        try:
            result = health_check(bot.port)
        finally:
            bot.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("healthy")


def test_socket_mode_is_healthy_while_connected_and_not_otherwise() -> None:
    state = {"connected": True}

    async def connected() -> bool:
        return state["connected"]

    with BackgroundServer(socket_mode_health_app(connected, "gemini")) as server:
        assert health_check(server.port).returncode == 0
        state["connected"] = False
        down = health_check(server.port)
        assert down.returncode == 1 and "503" in down.stdout


def test_nothing_listening_is_unhealthy() -> None:
    result = health_check(free_port())
    assert result.returncode == 1 and result.stdout.startswith("unhealthy")
