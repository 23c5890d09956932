"""Assembling a running tunebot: storage, tuning backend, Slack client, Bolt app,
poller and scheduler, served over HTTP (ASGI) or Socket Mode."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import aiohttp
import httpx
from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import listeners
from bot.backends.backend import TuningBackend
from bot.backends.gemini_backend import GeminiBackend
from bot.config import Settings
from bot.domain.backoff import Backoff
from bot.polling.edits import PostTurns, ProgressEditor
from bot.polling.eval_requests import EvalRequestRunner
from bot.polling.evaluation import JobEvaluator
from bot.polling.pacing import Pacer
from bot.polling.poller import Poller
from bot.polling.scheduler import PollScheduler
from bot.services.approval_decisions import ApprovalKeeper
from bot.services.sweeps import SweepStarted, resume_sweep
from bot.slack.app import build_app, make_web_client
from bot.slack.approvals import SlackApprovalPoster
from bot.slack.context import AppContext
from bot.slack.door import Refused, check_signature, is_ssl_check, read_body
from bot.slack.evaluation import SlackEvalThreads
from bot.slack.jobs import show_cancelled_job
from bot.slack.notices import BudgetNotices
from bot.slack.reporter import SlackReporter
from bot.slack.sweeps import SweepBoards
from bot.storage.models import Sweep
from bot.storage.store import Store

log = logging.getLogger(__name__)

SWITCH_INTERVAL_SECONDS = 0.001


def make_backend(settings: Settings) -> TuningBackend:
    """The tuning backend TUNEBOT_BACKEND names (`gemini` by default, or `vertex`)."""
    if settings.tunebot_backend == "vertex":
        return make_vertex_backend(settings)
    key = settings.google_api_key.get_secret_value() if settings.google_api_key else ""
    return GeminiBackend.from_settings(key, settings.gemini_api_base, generation=settings.generation())


def make_vertex_backend(settings: Settings) -> TuningBackend:
    """Vertex AI with Application Default Credentials, or the static token (emulator only).
    Imported here so a Gemini deployment never loads google-auth."""
    from bot.backends.vertex_backend import VertexBackend
    from bot.backends.vertex_models import load_catalog
    from bot.vertex import AdcTokens, StaticToken, TokenSource, VertexClient

    if not settings.vertex_project or not settings.vertex_bucket:
        raise ValueError("TUNEBOT_BACKEND=vertex needs VERTEX_PROJECT and VERTEX_BUCKET")
    tokens: TokenSource = (
        StaticToken(settings.vertex_access_token.get_secret_value())
        if settings.vertex_access_token is not None
        else AdcTokens()
    )
    client = VertexClient(
        project=settings.vertex_project,
        location=settings.vertex_location,
        tokens=tokens,
        api_base=settings.resolved_vertex_api_base,
        multi_region_api_base=settings.vertex_multi_region_api_base,
        storage_base=settings.gcs_api_base,
    )
    return VertexBackend(
        client,
        bucket=settings.vertex_bucket,
        adapter_size=settings.vertex_adapter_size,
        catalog=load_catalog(settings.vertex_base_models, settings.vertex_default_base_model),
        export_last_checkpoint_only=settings.vertex_export_last_checkpoint_only,
        keep_files=settings.vertex_keep_files,
        generation=settings.generation(),
    )


@dataclass
class Runtime:
    settings: Settings
    ctx: AppContext
    app: AsyncApp
    poller: Poller
    scheduler: PollScheduler | None = None
    # False when something else runs the poll cycles (the offline stand-in's tests run them by hand).
    schedule_polls: bool = True
    # Slack's requests go first: the poller paces itself around them.
    pacer: Pacer = field(default_factory=Pacer)

    async def start(self) -> None:
        """Inside the serving event loop: share one HTTP session for Slack calls (slack_sdk
        otherwise opens a connection per call) and start the poll timer.

        Validation threads hold the GIL for long stretches; a 1 ms switch interval (5 ms by
        default) lets the event loop take it back sooner, so acks wait less while files
        are parsed."""
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        self.ctx.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.ctx.client.timeout),
            connector=aiohttp.TCPConnector(limit=100),
        )
        if self.schedule_polls:
            self.scheduler = PollScheduler(self.poller, self.settings.poll_interval_seconds)
            self.scheduler.start()

    async def aclose(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        if self.poller.edits is not None:
            await self.poller.edits.aclose()
        if self.ctx.home is not None:
            await self.ctx.home.aclose()
        session = self.ctx.client.session
        if session is not None and not session.closed:
            await session.close()
        await self.ctx.backend.aclose()
        await self.ctx.http.aclose()
        await asyncio.to_thread(self.ctx.validation.shutdown)


def build_runtime(
    settings: Settings, *, store: Store | None = None, backend: TuningBackend | None = None
) -> Runtime:
    store = store or Store.from_url(settings.database_url)
    backend = backend or make_backend(settings)
    client = make_web_client(settings)
    reporter = SlackReporter(client)
    ctx = AppContext(
        settings=settings,
        store=store,
        backend=backend,
        client=client,
        reporter=reporter,
        http=httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False),
    )
    ctx.limits = settings.limits(backend.name)  # TUNEBOT_DATASET_LIMITS, capped at TUNEBOT_MAX_UPLOAD_MB
    pacer = Pacer()
    poller = Poller(
        store,
        backend,
        reporter,
        backoff=Backoff(
            base_seconds=settings.poll_interval_seconds,
            max_seconds=max(settings.max_poll_interval_seconds, settings.poll_interval_seconds),
        ),
        lease_seconds=settings.lease_seconds,
        prices=settings.training_prices,
        currency=settings.price_currency,
        evaluator=JobEvaluator(
            backend,
            held_out=lambda job: store.evaluations.held_out_examples(job.id) if job.id is not None else [],
            has_held_out=store.evaluations.jobs_with_holdout,
            limit=settings.eval_max_examples,
            concurrency=settings.eval_concurrency,
            judge_model=settings.judge_model(backend.default_judge_model),
        ),
        pacer=pacer,
        # Slack's rate limits: progress edits coalesced and spread under Tier 3, the cycle's
        # posts one a second per channel (`bot/polling/slackplan.py`).
        edits=ProgressEditor(reporter, store),
        posts=PostTurns(),
    )
    ctx.poll_now = poller.run_job
    ctx.eval_requests = EvalRequestRunner(
        store,
        backend,
        SlackEvalThreads(client, store),
        owner=poller.owner,
        lease_seconds=settings.lease_seconds,
        limit=settings.eval_max_examples,
        concurrency=settings.eval_concurrency,
        judge_model=settings.judge_model(backend.default_judge_model),
        clock=lambda: poller.clock(),
    )
    poller.each_cycle.append(ctx.eval_requests.run_due)  # stored `/tune eval`s carry on after a restart
    # Approval requests expire, and their messages left unposted or unedited are done (issue #22).
    ctx.approvals = ApprovalKeeper(store, SlackApprovalPoster(client, store), clock=lambda: poller.clock())
    poller.each_cycle.append(ctx.approvals.run_due)
    notices = BudgetNotices(
        store,
        client,
        settings,
        owner=poller.owner,
        lease_seconds=settings.lease_seconds,
        clock=lambda: poller.clock(),
        backend=backend,  # a hard budget cancels the jobs that pass it
        on_cancelled=partial(show_cancelled_job, ctx),
    )
    poller.each_cycle.append(notices.run_due)  # "your month passed 80 % of your budget", once

    # Sweep leaderboards (issue #23), each refreshed by one process at a time; a sweep whose
    # starting process died gets its missing variants from its holder.
    def resume(sweep: Sweep, owner: str, lease_seconds: float) -> Awaitable[SweepStarted | None]:
        return resume_sweep(
            store,
            backend,
            sweep,
            owner=owner,
            lease_seconds=lease_seconds,
            hold_seconds=settings.lease_seconds,
            eval_examples=settings.eval_max_examples,
            limits=ctx.limits,
            clock=lambda: poller.clock(),
        )

    boards = SweepBoards(
        store,
        client,
        owner=poller.owner,
        lease_seconds=settings.lease_seconds,
        clock=lambda: poller.clock(),
        resume=resume,
    )
    poller.each_cycle.append(boards.run_due)
    return Runtime(
        settings=settings, ctx=ctx, app=build_app(ctx, listeners.register), poller=poller, pacer=pacer
    )


def create_asgi_app(runtime: Runtime) -> Starlette:
    """HTTP mode: Slack's requests on `/slack/events` (size and signature checked at the
    door, `bot/slack/door.py`, before Bolt parses them) and a health endpoint for load
    balancers and container checks."""
    secret = runtime.settings.slack_signing_secret
    signing_secret = secret.get_secret_value() if secret else ""

    async def slack_events(request: Request) -> Response:
        with runtime.pacer.serving():  # the ack first, polls after (`bot/polling/pacing.py`)
            try:
                body = await read_body(request)
                if is_ssl_check(request.headers, body):
                    return Response(status_code=200)
                check_signature(signing_secret, request.headers, body)
            except Refused as refused:
                log.warning("refused a request to /slack/events (%d): %s", refused.status, refused.reason)
                return PlainTextResponse(refused.reason, status_code=refused.status)
            bolt_response = await runtime.app.async_dispatch(to_async_bolt_request(request, body))
            return to_starlette_response(bolt_response)

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True, "backend": runtime.ctx.backend.name})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.aclose()

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
