"""Shared pytest setup: fixture plugins for the emulator and the fake Slack Web API."""

from __future__ import annotations

import importlib.util

_PLUGINS = ("tests.emulator_fixtures", "tests.fakeslack_fixtures")

pytest_plugins = [name for name in _PLUGINS if importlib.util.find_spec(name) is not None]
