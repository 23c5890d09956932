"""Helpers for driving the emulator with Google's official clients (google-genai,
google-cloud-aiplatform, google-cloud-storage) without ever leaving loopback.

`offline_google` (a fixture; use it with `pytest.mark.usefixtures` or autouse) makes any
attempt to find Application Default Credentials, ping the GCE metadata server or resolve a
host other than loopback fail the test at once. Clients get explicit credentials
(`static_credentials()`: a fixed bearer token; AnonymousCredentials where a test wants none),
an explicit project and location, and the emulator's URL.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import google.auth
import pytest
from google.auth.compute_engine import _metadata
from google.oauth2.credentials import Credentials

PROJECT, LOCATION = "proj", "us-central1"
TOKEN = "emulator-token"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def static_credentials() -> Credentials:
    """OAuth credentials holding a fixed token, never refreshed (no expiry, no refresh token)."""
    return Credentials(token=TOKEN)


class LeftLoopback(AssertionError):
    pass


@pytest.fixture
def offline_google(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
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
