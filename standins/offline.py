"""tunebot wired to local stand-ins: the tuning-API emulator and the fake Slack workspace.

The bot itself is the production one (`build_runtime` + the ASGI app on a loopback
port): signed requests go in over HTTP, Web API calls come out over HTTP. Used by the
offline demo, the end-to-end tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from bot.config import Settings
from bot.polling.poller import CycleReport
from bot.runtime import Runtime, build_runtime, create_asgi_app
from bot.slack.retries import PacedRetryHandler
from standins.emulator import EmulatorConfig
from standins.emulator.running import RunningEmulator, start_emulator
from standins.fakeslack import FakeSlack, SlackRequestSender, Workspace
from standins.loopback import BackgroundServer

T = TypeVar("T")

OFFLINE_SIGNING_SECRET = "offline-signing-secret-not-for-production"
OFFLINE_API_KEY = "offline-emulator-key"
OFFLINE_VERTEX_TOKEN = "offline-emulator-token"
OFFLINE_VERTEX_PROJECT = "tunebot-offline"
OFFLINE_VERTEX_LOCATION = "us-central1"
OFFLINE_VERTEX_BUCKET = "tunebot-offline-data"


@dataclass
class OfflineConfig:
    database_url: str
    step_seconds: float = 1.0
    emulator_clock: Callable[[], float] | None = None
    slack_clock: Callable[[], float] | None = None  # what the fake Slack's trigger_ids and rate limits go by
    # Slack's per-method rate limits in the fake (standins/fakeslack/ratelimits.py); on by default.
    slack_rate_limits: bool = True
    # How the bot waits on Slack's time: its Slack client between retries (Retry-After), and the
    # poller's pacing of edits and posts (which then reads `slack_clock`). None: asyncio.sleep on
    # the monotonic clock. Tests on a manual `slack_clock` pass a sleep that moves that clock,
    # so Slack's rate limits cost no real time.
    slack_sleep: Callable[[float], Awaitable[None]] | None = None
    admins: tuple[str, ...] = ()
    poll_interval_seconds: float = 0.0  # 0: no scheduler, cycles are run by hand
    lease_seconds: float = 120.0
    max_poll_interval_seconds: float = 300.0
    log_level: str = "WARNING"
    emulator_latency_seconds: float = 0.0
    emulator_url: str | None = None  # use an emulator that is already running
    # "vertex": the emulator's Vertex AI + Cloud Storage surface (what `tunebot demo` and
    # `tunebot run --offline` use, see standins/demo/terminal.py); "gemini": its legacy Gemini
    # API surface, which the tests built on OfflineStack keep as their default.
    backend: str = "gemini"
    vertex_location: str = OFFLINE_VERTEX_LOCATION
    # The emulator's Vertex concurrent-job quota (None: no limit) and whether it refuses.
    vertex_concurrent_jobs: int | None = None
    vertex_quota_refuses: bool = False
    # Extra bot settings by their environment names (e.g. TUNEBOT_TRAINING_PRICES).
    settings: dict[str, str] | None = None


class OfflineStack:
    def __init__(self, config: OfflineConfig) -> None:
        self.config = config
        self.emulator: RunningEmulator | None = None
        self.slack = FakeSlack(
            Workspace(rate_limits=config.slack_rate_limits)
            if config.slack_clock is None
            else Workspace(clock=config.slack_clock, rate_limits=config.slack_rate_limits)
        )
        # Values by environment name, converted by pydantic as the environment's strings are.
        extra: dict[str, Any] = dict(config.settings or {})
        self.settings = Settings(
            _env_file=None,
            SLACK_BOT_TOKEN=self.slack.bot_token,
            SLACK_SIGNING_SECRET=OFFLINE_SIGNING_SECRET,
            SLACK_API_URL=self.slack.api_url,
            GOOGLE_API_KEY=OFFLINE_API_KEY,
            GEMINI_API_BASE=config.emulator_url or "http://127.0.0.1:1",
            DATABASE_URL=config.database_url,
            TUNEBOT_ADMINS=",".join(config.admins),
            # 0 in the config: no scheduler (cycles are run by hand); the setting keeps its default.
            TUNEBOT_POLL_INTERVAL=config.poll_interval_seconds or 12.0,
            TUNEBOT_LEASE_SECONDS=config.lease_seconds,
            TUNEBOT_MAX_POLL_INTERVAL=config.max_poll_interval_seconds,
            LOG_LEVEL=config.log_level,
            TUNEBOT_BACKEND=config.backend,
            VERTEX_PROJECT=OFFLINE_VERTEX_PROJECT,
            VERTEX_LOCATION=config.vertex_location,
            VERTEX_BUCKET=OFFLINE_VERTEX_BUCKET,
            VERTEX_API_BASE=config.emulator_url or "http://127.0.0.1:1",
            GCS_API_BASE=config.emulator_url or "http://127.0.0.1:1",
            VERTEX_MULTI_REGION_API_BASE=(config.emulator_url or "http://127.0.0.1:1") + "/rep/{region}",
            VERTEX_ACCESS_TOKEN=OFFLINE_VERTEX_TOKEN,
            **extra,
        )
        self.runtime: Runtime | None = None
        self.server: BackgroundServer | None = None
        self.sender: SlackRequestSender | None = None

    @property
    def workspace(self) -> Workspace:
        return self.slack.workspace

    def start(self) -> OfflineStack:
        if self.config.emulator_url is None:
            emulator_config = EmulatorConfig(
                step_seconds=self.config.step_seconds,
                vertex_concurrent_jobs=self.config.vertex_concurrent_jobs,
                vertex_quota_refuses=self.config.vertex_quota_refuses,
            )
            if self.config.emulator_clock is not None:
                emulator_config = replace(emulator_config, clock=self.config.emulator_clock)
            self.emulator = start_emulator(emulator_config)
            if self.config.emulator_latency_seconds:
                self.emulator.emulator.update_faults(
                    {"latency_seconds": self.config.emulator_latency_seconds}
                )
            self.settings.gemini_api_base = self.emulator.url
            self.settings.vertex_api_base = self.emulator.url
            self.settings.vertex_multi_region_api_base = self.emulator.url + "/rep/{region}"
            self.settings.gcs_api_base = self.emulator.url
        self.slack.start()
        self.start_bot()
        return self

    def start_bot(self) -> None:
        """Start the bot process's part: runtime, HTTP server, scheduler (if configured)."""
        self.runtime = build_runtime(self.settings)
        self.runtime.schedule_polls = self.config.poll_interval_seconds > 0
        sleep = self.config.slack_sleep
        if sleep is not None:
            for handler in self.runtime.ctx.client.retry_handlers:
                if isinstance(handler, PacedRetryHandler):
                    handler.sleep = sleep
            clock = self.config.slack_clock
            for pacing in (self.runtime.poller.edits, self.runtime.poller.posts):
                if pacing is not None:
                    pacing.sleep = sleep
                    if clock is not None:
                        pacing.clock = clock
        self.server = BackgroundServer(create_asgi_app(self.runtime)).start()
        self.sender = self.slack.sender(self.server.url, OFFLINE_SIGNING_SECRET)

    def stop_bot(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self.runtime is not None:
            self.runtime.ctx.store.engine.dispose()
            self.runtime = None

    def restart_bot(self) -> None:
        """A restart of tunebot alone: Slack, the tuning service and the database stay."""
        self.stop_bot()
        self.start_bot()

    def stop(self) -> None:
        # All three servers are told at once, then each is waited for: they wind down together
        # (one after the other costs a test ~0.4 s more for nothing).
        if self.server is not None:
            self.server.request_stop()
        self.slack.request_stop()
        if self.emulator is not None:
            self.emulator.request_stop()
        self.stop_bot()
        self.slack.stop()
        if self.emulator is not None:
            self.emulator.stop()

    def __enter__(self) -> OfflineStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- running code on the bot's own event loop ------------------------------------------

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        assert self.server is not None and self.server.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.server.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return self.submit(coro).result(timeout)

    async def arun(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(self.submit(coro))

    async def poll(self, *, all_due: bool = False) -> CycleReport:
        """One poll cycle, as the scheduler would run it. `all_due` first ends every job's
        wait, for tests and the demo that move the emulator's clock themselves."""
        assert self.runtime is not None
        if all_due:
            self.runtime.ctx.store.jobs.make_all_due()
        report = await self.arun(self.runtime.poller.run_cycle())
        await self.edits_sent()
        return report

    async def edits_sent(self) -> None:
        """Until the progress edits the poller has queued are sent (they are paced under
        Slack's rate limits, after the cycle that asked for them)."""
        assert self.runtime is not None
        if self.runtime.poller.edits is not None:
            await self.arun(self.runtime.poller.edits.drain())
