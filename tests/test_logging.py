"""Secrets never reach a log line, whatever the library that logs them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging, redact

SECRETS = [
    "xoxb-1111-2222-abcdefghijkl",
    "0123456789abcdef0123456789abcdef",
    "AIzaSyD-not-a-real-key-1234567890",
]


def test_known_secrets_and_secret_shapes_are_redacted() -> None:
    line = (
        "GET /v1beta/tunedModels?key=AIzaSyD-not-a-real-key-1234567890&pageSize=5 "
        "Authorization: Bearer xoxb-1111-2222-abcdefghijkl signing 0123456789abcdef0123456789abcdef "
        "app xapp-1-A111-222-abc other xoxp-9-9-9"
    )
    clean = redact(line, SECRETS)
    for secret in [*SECRETS, "xapp-1-A111-222-abc", "xoxp-9-9-9"]:
        assert secret not in clean
    assert "pageSize=5" in clean
    assert "[redacted]" in clean


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_log_lines_and_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", SECRETS, stream=stream)
    logger = logging.getLogger("slack_sdk.web.async_base_client")
    logger.debug("Sending a request - headers: %s", {"Authorization": f"Bearer {SECRETS[0]}"})
    try:
        raise RuntimeError(f"bad key {SECRETS[2]}")
    except RuntimeError:
        logging.getLogger("bot.test").exception("failed with %s", SECRETS[1])
    output = stream.getvalue()
    assert "Sending a request" in output and "RuntimeError" in output
    for secret in SECRETS:
        assert secret not in output
