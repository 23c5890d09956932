"""Pytest fixtures for the fake Slack Web API (auto-loaded by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from standins.fakeslack import FakeSlack


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack with a fresh workspace; `fake_slack.api_url` is slack_sdk's base_url."""
    with FakeSlack().serve() as fake:
        yield fake
