"""The connection layer under the Gemini and Vertex clients' `httpx.AsyncClient`.

The clients keep httpx's API (requests, responses, errors, timeouts), but hand the wire
work to aiohttp through `httpx-aiohttp`'s transport. A poll cycle sends one request per
active job; measured on the 2-core bench machine, httpx's own pool (httpcore over anyio)
spent about 0.74 ms of CPU per request and the aiohttp transport about 0.37 ms, which is
the difference between a 1,000-job cycle taking more or less than the poll interval's
share of one core. aiohttp is already here (the Slack SDK's async client uses it).

The aiohttp session is created on first use, inside the running event loop, and
closed with the httpx client.
"""

from __future__ import annotations

import httpx
from httpx_aiohttp import AiohttpTransport

# The poller keeps up to `Poller.concurrency` requests in flight; keep that many
# connections alive between cycles instead of reconnecting each time.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0)


def pooled_transport(limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.AsyncBaseTransport:
    """An httpx transport on one aiohttp connection pool of `limits.max_connections`."""
    return AiohttpTransport(limits=limits)
