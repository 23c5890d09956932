"""Access tokens for Vertex AI and Cloud Storage.

`AdcTokens` uses Application Default Credentials through the standard `google-auth`
library (a service-account file named by GOOGLE_APPLICATION_CREDENTIALS, `gcloud auth
application-default login`, or the metadata server on Google Cloud). The token is refreshed
in a worker thread before it expires; it is never logged. `StaticToken` is a fixed token
for the offline emulator only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REFRESH_MARGIN = dt.timedelta(minutes=5)

log = logging.getLogger("bot.vertex")


def utc_now() -> dt.datetime:
    """Now, aware, in UTC (what token expiry is compared with)."""
    return dt.datetime.now(dt.UTC)


class TokenSource(Protocol):
    async def token(self) -> str: ...


class AuthError(Exception):
    """No usable Google credentials (the message says what to set up; it holds no secret)."""


class StaticToken:
    """A fixed bearer token (the emulator accepts any non-empty one)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a static token must not be empty")
        self._token = token

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"

    async def token(self) -> str:
        return self._token


class AdcTokens:
    """Application Default Credentials, refreshed when missing or within 5 minutes of expiry."""

    def __init__(
        self,
        credentials: Any | None = None,
        *,
        scopes: tuple[str, ...] = (CLOUD_PLATFORM_SCOPE,),
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self._credentials = credentials
        self._scopes = scopes
        self.clock = clock  # aware UTC datetimes; tests pass one they set by hand
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return "AdcTokens(<application default credentials>)"

    def _load(self) -> Any:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            credentials, _project = google.auth.default(scopes=list(self._scopes))
        except DefaultCredentialsError as exc:
            raise AuthError(
                "no Google Cloud credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service-account "
                "key file, or run tunebot on Google Cloud with a service account attached"
            ) from exc
        return credentials

    def _needs_refresh(self, credentials: Any, now: dt.datetime) -> bool:
        token = getattr(credentials, "token", None)
        if not token:
            return True
        expiry = getattr(credentials, "expiry", None)  # google-auth keeps naive UTC datetimes
        if expiry is None:
            return False
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=dt.UTC)
        return bool(expiry - now <= REFRESH_MARGIN)

    def _refresh(self, credentials: Any) -> None:
        from google.auth.exceptions import GoogleAuthError
        from google.auth.transport.requests import Request

        try:
            credentials.refresh(Request())
        except GoogleAuthError as exc:
            raise AuthError(f"could not get a Google Cloud access token: {type(exc).__name__}") from exc

    async def token(self) -> str:
        async with self._lock:
            if self._credentials is None:
                self._credentials = await asyncio.to_thread(self._load)
            credentials = self._credentials
            if self._needs_refresh(credentials, self.clock()):
                log.debug("refreshing the Google Cloud access token")
                await asyncio.to_thread(self._refresh, credentials)
            token = getattr(credentials, "token", None)
            if not isinstance(token, str) or not token:
                raise AuthError("Google Cloud credentials gave no access token")
            return token
