"""Helpers for driving the emulator with Google's official clients (google-genai,
google-cloud-aiplatform, google-cloud-storage) without ever leaving loopback.

`offline_google` (a fixture in tests/conftest.py; use it with `pytest.mark.usefixtures` or
autouse) makes any attempt to find Application Default Credentials, ping the GCE metadata
server or resolve a host other than loopback fail the test at once. Clients get explicit credentials
(`static_credentials()`: a fixed bearer token; AnonymousCredentials where a test wants none),
an explicit project and location, and the emulator's URL.
"""

from __future__ import annotations

from google.oauth2.credentials import Credentials

PROJECT, LOCATION = "proj", "us-central1"
TOKEN = "emulator-token"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def static_credentials() -> Credentials:
    """OAuth credentials holding a fixed token, never refreshed (no expiry, no refresh token)."""
    return Credentials(token=TOKEN)


class LeftLoopback(AssertionError):
    """A client tried to leave loopback (raised by the `offline_google` fixture)."""
