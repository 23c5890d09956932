"""The no-credentials message of `tunebot run` leads with Vertex AI (what to create in
Google Cloud, which settings, how credentials are found) and speaks of Slack only when a
Slack setting is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings
from bot.setup_help import setup_help

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def help_for(**env: str) -> str:
    settings = Settings(_env_file=None, **env)  # type: ignore[call-arg]
    return setup_help(settings, settings.missing_for_run())


def test_settings_default_to_vertex() -> None:
    assert Settings(_env_file=None).tunebot_backend == "vertex"  # type: ignore[call-arg]


def test_nothing_set_leads_with_vertex_then_slack() -> None:
    text = help_for()
    assert text.startswith("tunebot cannot connect to Slack yet.")
    # The default backend is Vertex: its settings are the ones asked for, not the legacy key.
    assert "  - VERTEX_PROJECT\n  - VERTEX_BUCKET" in text and "  - GOOGLE_API_KEY" not in text
    assert "the legacy service, TUNEBOT_BACKEND=gemini" in text
    vertex, slack, gemini = (
        text.index("Vertex AI (the default, TUNEBOT_BACKEND=vertex)"),
        text.index("Slack:"),
        text.index("GOOGLE_API_KEY, but"),
    )
    assert vertex < slack < gemini
    for needed in (
        "gcloud services enable aiplatform.googleapis.com",
        "roles/aiplatform.user",
        "roles/storage.objectAdmin",
        "VERTEX_PROJECT",
        "VERTEX_BUCKET",
        "Application Default Credentials",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "manifest.yml",
        "tunebot demo",
    ):
        assert needed in text


def test_only_vertex_settings_missing_does_not_blame_slack() -> None:
    text = help_for(TUNEBOT_BACKEND="vertex", **SLACK)
    assert "Slack" not in text.split("\n", 1)[0] and "cannot connect to Slack" not in text
    assert "  - VERTEX_PROJECT\n  - VERTEX_BUCKET" in text and "GOOGLE_APPLICATION_CREDENTIALS" in text
    assert "SLACK_BOT_TOKEN" not in text and "manifest.yml" not in text


def test_slack_set_and_nothing_else_asks_for_vertex_not_the_legacy_key() -> None:
    text = help_for(**SLACK)
    assert text.startswith("tunebot tunes on Vertex AI (TUNEBOT_BACKEND=vertex) but cannot reach it yet.")
    assert "  - VERTEX_PROJECT\n  - VERTEX_BUCKET" in text and "GOOGLE_API_KEY" not in text


def test_the_legacy_gemini_api_is_named_so() -> None:
    text = help_for(TUNEBOT_BACKEND="gemini", **SLACK)
    assert "legacy Gemini API (TUNEBOT_BACKEND=gemini)" in text.split("\n", 1)[0]
    assert "  - GOOGLE_API_KEY (or GEMINI_API_KEY)" in text
    assert text.index("Vertex AI (the default") < text.index("The Gemini API backend (the legacy service")


def test_run_with_slack_set_and_vertex_missing_says_only_what_vertex_needs(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "GOOGLE_", "GEMINI_", "TUNEBOT_", "VERTEX_"))
    }
    env.update(HOME=str(tmp_path), TUNEBOT_BACKEND="vertex", **SLACK)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot connect to Slack" not in result.stderr
    assert "cannot reach it yet" in result.stderr and "VERTEX_BUCKET" in result.stderr
    assert "xoxb-1" not in result.stderr  # a secret is never echoed
