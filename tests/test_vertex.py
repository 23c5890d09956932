"""The Vertex AI backend: JSONL conversion, plain-word errors, auth refresh, and the client
against the emulator's Vertex surface (tuningJobs, Cloud Storage, endpoints)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bot.backends.vertex_backend import (
    VertexBackend,
    plain_error,
    vertex_jsonl,
)
from bot.config import Settings
from bot.domain.errors import BackendError
from bot.domain.types import JobState, ModelState, TrainingExample, TuningRequest
from bot.google import RetryPolicy
from bot.vertex import AdcTokens, StaticToken, VertexAPIError, VertexClient
from standins.emulator import EmulatorConfig, ScriptedFault
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator

PROJECT, LOCATION, BUCKET = "proj", "us-central1", "tunebot-data"
PAIRS = [TrainingExample(str(n), str(n + 1)) for n in range(1, 21)] + [TrainingExample("seven", "eight")]


def test_jsonl_has_one_user_and_one_model_turn_per_example() -> None:
    lines = (
        vertex_jsonl([TrainingExample("héllo", "wörld"), TrainingExample('a "q"', "b\nc")])
        .decode()
        .splitlines()
    )
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {
        "contents": [
            {"role": "user", "parts": [{"text": "héllo"}]},
            {"role": "model", "parts": [{"text": "wörld"}]},
        ]
    }
    assert json.loads(lines[1])["contents"][1]["parts"][0]["text"] == "b\nc"
    assert vertex_jsonl([]) == b""


@pytest.mark.parametrize(
    ("code", "status", "message", "expected"),
    [
        (429, "RESOURCE_EXHAUSTED", "Quota exceeded for tuning jobs", "Vertex AI quota exceeded"),
        (
            403,
            "PERMISSION_DENIED",
            "no storage.objects.create access; Bucket: b",
            "may not write to gs://bkt",
        ),
        (403, "PERMISSION_DENIED", "aiplatform.tuningJobs.create denied", "roles/aiplatform.user"),
        (400, "INVALID_ARGUMENT", "Adapter size ADAPTER_SIZE_SIXTEEN is not supported", "1, 2, 4, 8"),
    ],
)
def test_vertex_errors_in_plain_words(code: int, status: str, message: str, expected: str) -> None:
    error = plain_error(
        VertexAPIError(code, message, status=status), bucket="bkt", base_model="gemini-2.5-pro"
    )
    assert expected in error.message and message in error.message
    assert error.code == code and error.retryable == (code == 429)


def test_model_name_accepts_the_job_number_or_its_full_name() -> None:
    backend = VertexBackend(
        VertexClient(project=PROJECT, location=LOCATION, tokens=StaticToken("t")), bucket=BUCKET
    )
    full = f"projects/{PROJECT}/locations/{LOCATION}/tuningJobs/123456"
    assert backend.model_name("123456") == full
    assert backend.model_name(f"`{full}`") == full
    assert backend.model_name(f"https://console.cloud.google.com/vertex-ai/{full}?x=1") == full
    with pytest.raises(ValueError, match="not a Vertex AI tuning job"):
        backend.model_name("Not_A_Job")


def test_settings_ask_for_the_right_things_per_backend() -> None:
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    gemini = Settings(_env_file=None, TUNEBOT_BACKEND="gemini", **base)  # type: ignore[call-arg]
    assert gemini.missing_for_run() == ["GOOGLE_API_KEY (or GEMINI_API_KEY)"]
    vertex = Settings(_env_file=None, TUNEBOT_BACKEND="vertex", **base)  # type: ignore[call-arg]
    assert vertex.missing_for_run() == ["VERTEX_PROJECT", "VERTEX_BUCKET"]
    assert vertex.resolved_vertex_api_base == "https://us-central1-aiplatform.googleapis.com"
    ready = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TUNEBOT_BACKEND="vertex",
        VERTEX_PROJECT="p",
        VERTEX_BUCKET="b",
        VERTEX_LOCATION="europe-west4",
        **base,
    )
    assert ready.missing_for_run() == []
    assert ready.resolved_vertex_api_base == "https://europe-west4-aiplatform.googleapis.com"


class FakeCredentials:
    """google-auth credentials stand-in: counts refreshes, gives a new token each time."""

    def __init__(self, expiry: dt.datetime | None) -> None:
        self.token: str | None = None
        self.expiry = expiry
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = f"token-{self.refreshes}"


async def test_adc_tokens_refresh_when_missing_or_about_to_expire() -> None:
    now = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    credentials = FakeCredentials(expiry=(now + dt.timedelta(hours=1)).replace(tzinfo=None))
    tokens = AdcTokens(credentials, clock=lambda: now)
    assert await tokens.token() == "token-1"
    assert await tokens.token() == "token-1"  # still valid for an hour
    now += dt.timedelta(minutes=54)  # 6 minutes left: outside the 5-minute margin
    assert await tokens.token() == "token-1"
    now += dt.timedelta(minutes=2)  # 4 minutes left
    assert await tokens.token() == "token-2"
    assert "token" not in repr(tokens).replace("Tokens", "")


# ---- against the emulator --------------------------------------------------------------------


@pytest.fixture
def vertex_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(
        EmulatorConfig(clock=FrozenClock(), step_seconds=1.0, vertex_denied_buckets=frozenset({"locked"}))
    ) as running:
        yield running


def backend_over(
    emulator: RunningEmulator, transport: httpx.AsyncBaseTransport | None = None
) -> VertexBackend:
    """A backend against the emulator with quick retries, its requests through `transport`."""
    client = VertexClient(
        project=PROJECT,
        location=LOCATION,
        tokens=StaticToken("emulator-token"),
        api_base=emulator.url,
        storage_base=emulator.url,
        retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002),
        http_client=httpx.AsyncClient(transport=transport) if transport else None,
        operation_wait=0.0,
    )
    return VertexBackend(client, bucket=BUCKET)


@pytest.fixture
async def backend(vertex_emulator: RunningEmulator) -> AsyncIterator[VertexBackend]:
    backend = backend_over(vertex_emulator)
    try:
        yield backend
    finally:
        await backend.aclose()


def request(name: str = "numbers", base_model: str = "gemini-2.5-flash") -> TuningRequest:
    return TuningRequest(
        display_name=name,
        base_model=base_model,
        examples=PAIRS,
        epoch_count=2,
        batch_size=4,
        learning_rate=0.001,
        model_id="numbers-abcd1234",
    )


async def test_the_whole_vertex_flow_against_the_emulator(
    backend: VertexBackend, vertex_emulator: RunningEmulator
) -> None:
    started = await backend.start(request())
    assert started.model_name == started.operation_name
    assert started.model_name.startswith(f"projects/{PROJECT}/locations/{LOCATION}/tuningJobs/")
    assert started.total_steps == 6  # 21 examples, 8 a step, 2 epochs
    uploaded = vertex_emulator.emulator.vertex.object(BUCKET, "tunebot/numbers-abcd1234.jsonl")
    assert uploaded is not None and uploaded.count(b"\n") == 21

    assert (await backend.poll(started.operation_name)).state is JobState.QUEUED
    vertex_emulator.advance(2)
    assert (await backend.poll(started.operation_name)).state is JobState.RUNNING
    with pytest.raises(BackendError, match="still tuning"):
        await backend.generate(started.model_name, "5")
    vertex_emulator.advance(10)
    done = await backend.poll(started.operation_name)
    assert done.state is JobState.SUCCEEDED and done.percent == 100.0

    assert await backend.generate(started.model_name, "seven") == "eight"
    assert await backend.generate(started.model_name, "55") == "56"
    page = await backend.list_models(page_size=10)
    assert [m.name for m in page.models] == [started.model_name]
    summary = await backend.get_model(started.model_name)
    assert summary.state is ModelState.READY and summary.display_name == "numbers"

    await backend.delete_model(started.model_name)
    with pytest.raises(BackendError) as gone:
        await backend.generate(started.model_name, "seven")
    assert gone.value.not_found
    with pytest.raises(BackendError) as again:
        await backend.delete_model(started.model_name)
    assert again.value.not_found
    stats = vertex_emulator.emulator.stats()["by_method"]
    # two epochs: the main endpoint and the first epoch's checkpoint endpoint, both gone
    assert stats["vertex.endpoints.undeployModel"] == 2
    assert stats["vertex.models.delete"] == 2  # the second delete found nothing (404)
    job_id = int(started.model_name.rsplit("/", 1)[1])
    assert vertex_emulator.emulator.vertex.live_endpoints(job_id) == []
    assert vertex_emulator.emulator.vertex.object(BUCKET, "tunebot/numbers-abcd1234.jsonl") is None


async def test_deleting_a_running_job_cancels_it(backend: VertexBackend) -> None:
    started = await backend.start(request())
    await backend.delete_model(started.model_name)
    progress = await backend.poll(started.operation_name)
    assert progress.state is JobState.CANCELLED


async def test_vertex_refusals_reach_slack_in_plain_words(
    backend: VertexBackend, vertex_emulator: RunningEmulator
) -> None:
    backend.adapter_size = 16
    with pytest.raises(BackendError, match=r"Gemini 2.5 Pro supports adapter sizes 1, 2, 4, 8, not 16"):
        await backend.start(request(base_model="gemini-2.5-pro"))
    assert vertex_emulator.emulator.vertex.state.objects == {}  # refused before the upload
    backend.adapter_size = None
    backend.bucket = "locked"
    with pytest.raises(BackendError, match="may not write to gs://locked"):
        await backend.start(request())
    backend.bucket = BUCKET
    vertex_emulator.emulator.update_faults(
        {
            "scripted": [
                ScriptedFault(
                    429, times=5, method="vertex.tuningJobs.create", message="Quota exceeded"
                ).to_json()
            ]
        }
    )
    with pytest.raises(BackendError, match="Vertex AI quota exceeded") as quota:
        await backend.start(request())
    assert quota.value.retryable


async def test_the_emulator_wants_a_bearer_token(vertex_emulator: RunningEmulator) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=vertex_emulator.url) as http:
        response = await http.get(f"/v1/projects/{PROJECT}/locations/{LOCATION}/tuningJobs")
        assert response.status_code == 401
        ok = await http.get(
            f"/v1/projects/{PROJECT}/locations/{LOCATION}/tuningJobs", headers={"authorization": "Bearer x"}
        )
        assert ok.status_code == 200 and ok.json() == {"tuningJobs": []}


async def test_missing_credentials_say_what_to_set_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from bot.vertex import AuthError

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(AuthError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        await AdcTokens().token()


def test_adapter_size_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTEX_ADAPTER_SIZE", "16")
    assert Settings(_env_file=None).vertex_adapter_size == 16  # type: ignore[call-arg]
    monkeypatch.setenv("VERTEX_ADAPTER_SIZE", "3")
    with pytest.raises(ValueError, match="VERTEX_ADAPTER_SIZE"):
        Settings(_env_file=None)  # type: ignore[call-arg]


class FailFirstCreate(httpx.AsyncBaseTransport):
    """Fails the first tuningJobs create: `lose_answer` sends it and loses the answer (a
    read timeout after the service made the job); otherwise the connection is refused and
    nothing reaches the service."""

    def __init__(self, *, lose_answer: bool) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lose_answer = lose_answer
        self.failed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        creates = request.method == "POST" and request.url.path.endswith("/tuningJobs")
        first_create = creates and not self.failed
        if first_create and not self.lose_answer:
            self.failed += 1
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        if first_create:
            await response.aread()
            self.failed += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize(
    "lose_answer",
    [
        pytest.param(True, id="answer lost: recovered by its label, not sent twice"),
        pytest.param(False, id="connection refused: the create never left, sent again"),
    ],
)
async def test_a_failed_create_makes_exactly_one_job(
    vertex_emulator: RunningEmulator, lose_answer: bool
) -> None:
    transport = FailFirstCreate(lose_answer=lose_answer)
    backend = backend_over(vertex_emulator, transport)
    try:
        started = await backend.start(request())
        assert transport.failed == 1
        jobs = vertex_emulator.emulator.vertex.state.jobs
        assert len(jobs) == 1  # one job, not two, and tunebot knows its name
        [job] = jobs.values()
        assert started.model_name == job.name and job.labels == {"tunebot-request": "numbers-abcd1234"}
    finally:
        await backend.aclose()
        await transport.aclose()
