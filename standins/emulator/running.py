"""Run the emulator on a loopback port in this process (tests, the offline demo, benchmarks)."""

from __future__ import annotations

from types import TracebackType

from starlette.applications import Starlette

from standins.emulator.app import create_app
from standins.emulator.config import EmulatorConfig
from standins.emulator.service import Emulator
from standins.loopback import BackgroundServer

TUTORIAL_START = 1_714_557_600.0  # 2024-05-01T10:00:00Z


class FrozenClock:
    """A clock that only moves when told (`Emulator.advance()` or `FrozenClock.advance()`)."""

    def __init__(self, start: float = TUTORIAL_START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RunningEmulator:
    """An emulator served by uvicorn in a daemon thread. `url` is its base URL."""

    def __init__(self, app: Starlette, server: BackgroundServer) -> None:
        self.app = app
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def emulator(self) -> Emulator:
        service: Emulator = self.app.state.emulator
        return service

    def advance(self, seconds: float) -> float:
        return self.emulator.advance(seconds)

    def request_stop(self) -> None:
        self.server.request_stop()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int | None = None
) -> RunningEmulator:
    """Start an emulator (with `config`, default settings otherwise) and wait until it listens."""
    app = create_app(config or EmulatorConfig())
    server = BackgroundServer(app, host=host, port=port)
    server.start()
    return RunningEmulator(app, server)
