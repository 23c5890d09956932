"""Downloading a file someone shared with the bot, without leaking the bot token.

The token goes only to the exact origins (scheme, host, port) of Slack's own file
hosts, redirects are followed by hand (a few hops, each checked before any request is
made), the size is bounded while streaming,
and Slack's habit of answering 200 with a sign-in page when a scope is missing is
recognised and explained.
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from typing import IO
from urllib.parse import urljoin, urlsplit

import httpx

from bot.config import SLACK_FILE_HOSTS
from bot.presentation.downloads import (
    FILE_GONE_TEXT,
    FILE_REFUSED_TEXT,
    REDIRECT_WITHOUT_TARGET_TEXT,
    SIGN_IN_PAGE_TEXT,
    declared_too_big_text,
    download_failed_text,
    download_status_text,
    foreign_host_text,
    grew_too_big_text,
    too_many_redirects_text,
)

MAX_REDIRECTS = 3
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024


class DownloadError(Exception):
    """The file could not be fetched; the message is meant for the uploader."""


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def origin_of(url: str) -> str | None:
    """ "scheme://host:port" of an http(s) URL (default ports spelled out), else None."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        return None
    return f"{scheme}://{parts.hostname.lower()}:{port}"


def file_origins(api_url: str) -> frozenset[str]:
    """Where the bot token may go: Slack's file hosts over https on port 443, and the
    exact origin of the Web API (`SLACK_API_URL`; the fake Slack's port in tests)."""
    origins = {f"https://{host}:443" for host in SLACK_FILE_HOSTS}
    api_origin = origin_of(api_url)
    if api_origin:
        origins.add(api_origin)
    return frozenset(origins)


def allowed_url(url: str, origins: Collection[str]) -> bool:
    """True when `url` is on exactly one of `origins` (scheme, host and port), over https,
    or over http on loopback (the fake Slack in tests)."""
    origin = origin_of(url)
    if origin is None or origin not in origins:
        return False
    return origin.startswith("https://") or (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def looks_like_login_page(content_type: str, head: bytes) -> bool:
    if "text/html" in content_type.lower():
        return True
    start = head.lstrip()[:64].lower()
    return start.startswith(b"<!doctype html") or start.startswith(b"<html")


async def download_slack_file(
    url: str,
    *,
    token: str,
    allowed_origins: Collection[str],
    max_bytes: int,
    client: httpx.AsyncClient | None = None,
    expected_html: bool = False,
) -> IO[bytes]:
    """Stream `url` into a temporary file (rewound) and return it.

    Raises DownloadError with a message for the uploader on any refusal.
    """
    own_client = client is None
    http = client or httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), follow_redirects=False)
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            if not allowed_url(url, allowed_origins):
                where = origin_of(url) or url
                raise DownloadError(foreign_host_text(where))
            async with http.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise DownloadError(REDIRECT_WITHOUT_TARGET_TEXT)
                    url = urljoin(url, location)
                    continue
                if response.status_code in (401, 403):
                    raise DownloadError(FILE_REFUSED_TEXT)
                if response.status_code == 404:
                    raise DownloadError(FILE_GONE_TEXT)
                if response.status_code >= 400:
                    raise DownloadError(download_status_text(response.status_code))
                return await _spool(response, max_bytes, expected_html=expected_html)
        raise DownloadError(too_many_redirects_text(MAX_REDIRECTS))
    except httpx.HTTPError as exc:
        raise DownloadError(download_failed_text(type(exc).__name__)) from exc
    finally:
        if own_client:
            await http.aclose()


async def _spool(response: httpx.Response, max_bytes: int, *, expected_html: bool) -> IO[bytes]:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise DownloadError(declared_too_big_text(int(declared), max_bytes))
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
    received = 0
    first = True
    try:
        async for chunk in response.aiter_bytes(64 * 1024):
            if (
                first
                and not expected_html
                and looks_like_login_page(response.headers.get("content-type", ""), chunk)
            ):
                raise DownloadError(SIGN_IN_PAGE_TEXT)
            first = False
            received += len(chunk)
            if received > max_bytes:
                raise DownloadError(grew_too_big_text(max_bytes))
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
