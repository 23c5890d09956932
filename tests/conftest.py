"""The fixtures the test modules share. Plain helpers (constants, functions, classes) are in
tests/helpers/; a fixture one module alone uses stays in that module."""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import google.auth
import pytest
from google.auth.compute_engine import _metadata

from bot.gemini import GeminiClient
from bot.google import RetryPolicy
from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator
from standins.fakeslack import FakeSlack, Workspace
from standins.offline import OfflineConfig, OfflineStack
from tests.helpers.databases import postgres_schema_url, sqlite_url
from tests.helpers.emulator import TEST_KEY, RecordingSleep
from tests.helpers.google import LOOPBACK, LeftLoopback
from tests.helpers.slack import OWNER, running_stack, slack_time

# ---------------------------------------------------------------- the tuning-API emulator
# `emulator` runs on a frozen clock (1 simulated second per tuning step): jobs only move when
# a test calls `emulator.advance(seconds)`. `gemini_client` retries with a recording no-op
# sleep, so backoff is instant and the waits it asked for are in `gemini_sleeps`.


@pytest.fixture
def emulator_clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def emulator(emulator_clock: FrozenClock) -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(clock=emulator_clock, step_seconds=1.0)) as running:
        yield running


@pytest.fixture
def gemini_sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def gemini_client(
    emulator: RunningEmulator, gemini_sleeps: RecordingSleep
) -> AsyncIterator[GeminiClient]:
    client = GeminiClient(
        TEST_KEY,
        base_url=emulator.url,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        sleep=gemini_sleeps,
    )
    try:
        yield client
    finally:
        await client.aclose()


# ---------------------------------------------------------------- the fake Slack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack with a fresh workspace; `fake_slack.api_url` is slack_sdk's base_url.
    Its rate limits are off: these tests are about what the fake answers, not how often
    (tests/test_fakeslack_ratelimits.py has the limits)."""
    with FakeSlack(Workspace(rate_limits=False)).serve() as fake:
        yield fake


# ---------------------------------------------------------------- the whole bot, offline


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    """The bot over HTTP with the fake Slack (three test users) and an emulator on a frozen clock."""
    with running_stack(tmp_path) as running:
        yield running


@pytest.fixture
def fast_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    """Like `stack` (Slack's rate limits on, on a manual clock), with one-second leases so a
    'crashed' poller's jobs are taken over quickly."""
    config = OfflineConfig(
        database_url=f"sqlite:///{tmp_path / 'tunebot.db'}",
        emulator_clock=FrozenClock(),
        lease_seconds=1.0,
        **slack_time(),
    )
    with OfflineStack(config) as running:
        running.workspace.add_user(OWNER, "olivia")
        yield running


@pytest.fixture
def services() -> Iterator[tuple[RunningEmulator, FakeSlack]]:
    """An emulator (a tenth of a second per step, real time) and a fake Slack for bot processes.
    The fake's rate limits are off: the processes run on the wall clock, where waiting out
    Slack's one post a second per channel for hundreds of jobs would take minutes."""
    with (
        start_emulator(EmulatorConfig(step_seconds=0.1)) as emulator,
        FakeSlack(Workspace(rate_limits=False)).serve() as slack,
    ):
        slack.workspace.add_user(OWNER, "olivia")
        yield emulator, slack


# ---------------------------------------------------------------- logging


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """A stream for a test to log into; the root logger's handlers and level are put back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)


# ---------------------------------------------------------------- Google's official clients


@pytest.fixture
def offline_google(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to find Application Default Credentials, ping the GCE metadata server or
    resolve a host other than loopback fails the test at once (see tests/helpers/google.py)."""
    real_getaddrinfo = socket.getaddrinfo

    def loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK and not str(host).startswith("127."):
            raise LeftLoopback(f"a client tried to reach {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def no_adc(*args: Any, **kwargs: Any) -> Any:
        raise LeftLoopback("a client looked for Application Default Credentials")

    def no_metadata(*args: Any, **kwargs: Any) -> Any:
        raise LeftLoopback("a client tried the GCE metadata server")

    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    monkeypatch.setattr(google.auth, "default", no_adc)
    monkeypatch.setattr(_metadata, "ping", no_metadata)
    monkeypatch.setattr(_metadata, "get", no_metadata)
    yield


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind: a SQLite file, and a schema of its own on the local
    PostgreSQL. (Modules that need only PostgreSQL define their own.)"""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema_url() as url:
            yield url
