"""The connection layer under the Gemini and Vertex clients' `httpx.AsyncClient`.

The clients keep httpx's API (requests, responses, errors, timeouts), but hand the wire
work to aiohttp through `httpx-aiohttp`'s transport. A poll cycle sends one request per
active job; measured on the 2-core bench machine, httpx's own pool (httpcore over anyio)
spent about 0.74 ms of CPU per request and the aiohttp transport about 0.37 ms, which is
the difference between a 1,000-job cycle taking more or less than the poll interval's
share of one core. aiohttp is already here (the Slack SDK's async client uses it).

`httpx-aiohttp` turns every aiohttp connection error into `httpx.ConnectTimeout`, a
refused connection and a server that hung up mid-answer alike. The difference matters:
a request that never left can always be sent again, one that was cut off may have been
acted on (a Vertex create is not repeated then). `PreciseErrorsTransport` restores
httpx's own classes from the aiohttp cause.

The aiohttp session is created on first use, inside the running event loop, and
closed with the httpx client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

# The poller keeps up to `Poller.concurrency` requests in flight; keep that many
# connections alive between cycles instead of reconnecting each time.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=30.0)


def precise_error(error: httpx.TransportError) -> httpx.TransportError:
    """The httpx error httpcore would have raised for `error`'s aiohttp cause."""
    cause = error.__cause__
    message = str(error)
    if isinstance(cause, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake: nothing was sent
        return httpx.ConnectError(message)
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message or "server disconnected without sending a complete answer")
    if isinstance(cause, aiohttp.ClientOSError):  # reset while sending or reading
        return httpx.ReadError(message)
    return error


class _PreciseErrorsStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx.TransportError as exc:
            raise precise_error(exc) from exc.__cause__

    async def aclose(self) -> None:
        await self._inner.aclose()


class PreciseErrorsTransport(AiohttpTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise precise_error(exc) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _PreciseErrorsStream(response.stream)
        return response


def pooled_transport(limits: httpx.Limits = DEFAULT_LIMITS) -> httpx.AsyncBaseTransport:
    """An httpx transport on one aiohttp connection pool of `limits.max_connections`."""
    return PreciseErrorsTransport(limits=limits)
