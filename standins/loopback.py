"""Serve an ASGI app on a loopback port from a background thread.

Used by the tests, the benchmarks and `tunebot demo` to run the emulator, the fake
Slack Web API and the bot itself as real HTTP servers inside one process.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a port that is free right now on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    """A uvicorn server for `app` on 127.0.0.1, running in a daemon thread.

    >>> with BackgroundServer(app) as server:
    ...     httpx.get(server.url + "/healthz")
    """

    def __init__(
        self,
        app: Callable[..., Any],
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_level: str = "warning",
        on_loop: Callable[[asyncio.AbstractEventLoop], None] | None = None,
    ) -> None:
        self.host = host
        # The listening socket is bound here and handed to uvicorn, so the port cannot be
        # taken by someone else between choosing it and serving on it.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port or 0))
        self.port = int(self._socket.getsockname()[1])
        self._config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level=log_level,
            lifespan="auto",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(self._config)
        self._thread: threading.Thread | None = None
        self._on_loop = on_loop
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        if self._on_loop is not None:
            self._on_loop(loop)
        try:
            loop.run_until_complete(self._server.serve(sockets=[self._socket]))
        finally:
            loop.close()

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        self._thread = threading.Thread(target=self._run, name=f"asgi-{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"server on port {self.port} failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError(f"server on port {self.port} did not start within {timeout}s")
            time.sleep(0.01)
        return self

    def request_stop(self) -> None:
        """Tell the server to stop, without waiting (uvicorn notices within 0.1 s): stopping
        several servers, ask them all first, then `stop` each, and they wind down together."""
        self._server.should_exit = True

    def stop(self, timeout: float = 5.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
