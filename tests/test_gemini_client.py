"""GeminiClient against the emulator on loopback: paging, errors, retries, safe create, key hygiene."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.gemini import GeminiAPIError, GeminiClient, GeminiConnectionError, TuningExample, new_tuned_model_id
from bot.google import RetryPolicy
from bot.google.transport import pooled_transport
from standins.emulator.running import RunningEmulator
from standins.loopback import free_port
from tests.helpers.emulator import TEST_KEY, RecordingSleep

BASE_MODEL = "models/gemini-1.5-flash-001-tuning"
EXAMPLES = [TuningExample("1", "2"), TuningExample("seven", "eight"), TuningExample("일", "이")]


async def create(client: GeminiClient, display_name: str = "number generator model", **kw: Any) -> str:
    operation = await client.create_tuned_model(
        display_name=display_name,
        base_model=BASE_MODEL,
        examples=EXAMPLES,
        epoch_count=2,
        batch_size=1,
        learning_rate=0.001,
        **kw,
    )
    assert operation.metadata is not None and operation.metadata.tuned_model is not None
    return operation.metadata.tuned_model


def script(emulator: RunningEmulator, *faults: dict[str, object]) -> None:
    emulator.emulator.update_faults({"scripted": list(faults)})


@pytest.fixture
async def no_retry_client(emulator: RunningEmulator) -> AsyncIterator[GeminiClient]:
    client = GeminiClient(TEST_KEY, base_url=emulator.url, retry=RetryPolicy(max_attempts=1))
    yield client
    await client.aclose()


# -- paging ----------------------------------------------------------------------------------------


async def test_paging_and_iter_tuned_models(emulator: RunningEmulator, gemini_client: GeminiClient) -> None:
    names = [await create(gemini_client, f"model {i}") for i in range(12)]
    first = await gemini_client.list_tuned_models()
    assert len(first.tuned_models) == 10 and first.next_page_token  # default page size 10

    pages = []
    token = None
    while True:
        page = await gemini_client.list_tuned_models(page_size=5, page_token=token)
        pages.append([m.name for m in page.tuned_models])
        token = page.next_page_token
        if token is None:
            break
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [n for p in pages for n in p] == names  # stable creation order

    emulator.emulator.reset_stats()
    walked = [m.name async for m in gemini_client.iter_tuned_models(page_size=5)]
    assert walked == names
    assert emulator.emulator.stats()["by_method"] == {"tunedModels.list": 3}

    filtered = await gemini_client.list_tuned_models(filter="model 1")
    assert {m.display_name for m in filtered.tuned_models} == {"model 1", "model 10", "model 11"}

    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.list_tuned_models(page_token="not-a-token")
    assert caught.value.code == 400 and "page_token" in caught.value.message


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (409, "ALREADY_EXISTS"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ],
)
async def test_every_error_status_is_mapped(
    emulator: RunningEmulator, no_retry_client: GeminiClient, code: int, status: str
) -> None:
    message = f"Google says {code}, in its own words."
    script(emulator, {"code": code, "message": message})
    with pytest.raises(GeminiAPIError) as caught:
        await no_retry_client.get_tuned_model("some-model")
    error = caught.value
    assert (error.code, error.status, error.message) == (code, status, message)
    assert error.is_retryable == (code in (429, 500, 503))
    assert error.is_not_found == (code == 404)


async def test_service_errors_keep_googles_message(
    gemini_client: GeminiClient, gemini_sleeps: RecordingSleep
) -> None:
    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.create_tuned_model(display_name="x", base_model=BASE_MODEL, examples=[])
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert "needs at least one example" in caught.value.message

    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.get_tuned_model("no-such-model")
    assert (
        caught.value.is_not_found
        and caught.value.message == "Tuned model tunedModels/no-such-model does not exist."
    )

    await create(gemini_client, tuned_model_id="taken-id")
    with pytest.raises(GeminiAPIError) as caught:  # the caller's own id is taken: not resolved, raised
        await create(gemini_client, tuned_model_id="taken-id")
    assert caught.value.code == 409 and caught.value.status == "ALREADY_EXISTS"
    assert gemini_sleeps.calls == []


async def test_non_json_error_body(emulator: RunningEmulator, no_retry_client: GeminiClient) -> None:
    script(emulator, {"code": 502, "body": "<html><body>502 Bad Gateway</body></html>"})
    with pytest.raises(GeminiAPIError) as caught:
        await no_retry_client.list_tuned_models()
    assert caught.value.code == 502 and "Bad Gateway" in caught.value.message


def test_error_from_response_reads_retry_info_and_retry_after() -> None:
    request = httpx.Request("GET", "https://example.invalid/v1beta/tunedModels")
    body = {
        "error": {
            "code": 429,
            "message": "Quota exceeded.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "32s"}],
        }
    }
    error = GeminiAPIError.from_response(httpx.Response(429, json=body, request=request))
    assert error.retry_after == 32.0 and error.is_retryable and error.message == "Quota exceeded."
    with_header = httpx.Response(429, json=body, headers={"Retry-After": "3"}, request=request)
    assert GeminiAPIError.from_response(with_header).retry_after == 3.0
    dated = httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, request=request)
    assert GeminiAPIError.from_response(dated, now=1445412470.0).retry_after == 10.0
    plain = GeminiAPIError.from_response(httpx.Response(503, text="Service Unavailable", request=request))
    assert plain.status == "UNAVAILABLE" and "Service Unavailable" in plain.message


# -- retries ---------------------------------------------------------------------------------------


async def test_retries_429_honouring_retry_after(
    emulator: RunningEmulator, gemini_client: GeminiClient, gemini_sleeps: RecordingSleep
) -> None:
    script(emulator, {"code": 429, "times": 2, "retry_after_seconds": 0.25})
    page = await gemini_client.list_tuned_models()
    assert page.tuned_models == []
    assert gemini_sleeps.calls == [0.25, 0.25]
    assert emulator.emulator.stats()["by_status"] == {"429": 2, "200": 1}


async def test_retries_503_with_jittered_backoff(
    emulator: RunningEmulator, gemini_client: GeminiClient, gemini_sleeps: RecordingSleep
) -> None:
    name = await create(gemini_client)
    script(
        emulator,
        {"code": 503, "times": 2, "method": "tunedModels.get"},
        {"code": 500, "method": "tunedModels.get"},
    )
    model = await gemini_client.get_tuned_model(name)
    assert model.name == name
    assert len(gemini_sleeps.calls) == 3
    for attempt, delay in enumerate(gemini_sleeps.calls, start=1):
        assert 0 <= delay <= min(0.05, 0.01 * 2 ** (attempt - 1))


async def test_random_faults_are_absorbed(emulator: RunningEmulator, emulator_clock: object) -> None:
    emulator.emulator.update_faults({"rate_429": 0.2, "rate_503": 0.2, "retry_after_seconds": 0})
    sleeps = RecordingSleep()
    async with GeminiClient(
        TEST_KEY, base_url=emulator.url, retry=RetryPolicy(max_attempts=12, base_delay=0.001), sleep=sleeps
    ) as client:
        for _ in range(15):
            await client.list_tuned_models()
    faults = emulator.emulator.stats()["faults"]
    assert faults.get("429", 0) + faults.get("503", 0) == len(sleeps.calls) > 0


async def test_no_retry_on_400(
    emulator: RunningEmulator, gemini_client: GeminiClient, gemini_sleeps: RecordingSleep
) -> None:
    script(emulator, {"code": 400, "times": 5, "message": "Request contains an invalid argument."})
    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.list_tuned_models()
    assert caught.value.code == 400
    assert gemini_sleeps.calls == [] and emulator.emulator.stats()["total"] == 1


async def test_gives_up_after_max_attempts(
    emulator: RunningEmulator, gemini_client: GeminiClient, gemini_sleeps: RecordingSleep
) -> None:
    script(emulator, {"code": 500, "times": 10})
    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.list_tuned_models()
    assert caught.value.code == 500
    assert emulator.emulator.stats()["total"] == 4 and len(gemini_sleeps.calls) == 3


async def test_connection_errors_retry_then_raise() -> None:
    sleeps = RecordingSleep()
    client = GeminiClient(
        TEST_KEY, base_url=f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(max_attempts=3), sleep=sleeps
    )
    async with client:
        with pytest.raises(GeminiConnectionError, match=r"ConnectError: Cannot connect to host"):
            await client.list_tuned_models()
    assert len(sleeps.calls) == 2


async def _serve(answer: bytes) -> asyncio.Server:
    """A server that reads one request, writes `answer` and hangs up."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"", httpx.RemoteProtocolError),  # hung up without answering: the request may have been acted on
        (b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"name"', httpx.ReadError),  # cut off mid-body
    ],
)
async def test_a_cut_off_answer_is_not_mistaken_for_a_refused_connection(
    answer: bytes, expected: type[httpx.TransportError]
) -> None:
    """Only a request that never left is safe to send again whatever it does; the transport
    keeps httpx's error classes so the clients can tell (a Vertex create is not repeated
    after a cut-off answer)."""
    server = await _serve(answer)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(transport=pooled_transport()) as http:
            with pytest.raises(expected) as caught:
                await http.get(f"http://127.0.0.1:{port}/v1/operations/x")
            assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{free_port()}/v1/operations/x")
    finally:
        server.close()
        await server.wait_closed()


def test_retry_policy_is_pure() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=4.0, max_retry_after=10.0)
    assert policy.delay(1, rand=lambda: 1.0) == 1.0
    assert policy.delay(3, rand=lambda: 1.0) == 4.0
    assert policy.delay(9, rand=lambda: 0.5) == 2.0  # capped at max_delay, then jittered
    assert policy.delay(1, retry_after=7.0) == 7.0
    assert policy.delay(1, retry_after=99.0) == 10.0
    for code, retry in [(400, False), (401, False), (403, False), (404, False), (409, False)]:
        assert policy.should_retry(1, GeminiAPIError(code, "x")) is retry
    for code in (429, 500, 503, 504):
        assert policy.should_retry(1, GeminiAPIError(code, "x"))
        assert not policy.should_retry(3, GeminiAPIError(code, "x"))
    assert policy.should_retry(1, httpx.ConnectError("refused"))
    assert policy.should_retry(1, httpx.ReadTimeout("slow"))
    assert not policy.should_retry(1, ValueError("bug"))


# -- safe create -----------------------------------------------------------------------------------


class LoseResponses(httpx.AsyncBaseTransport):
    """Forwards every request to the server, but drops the answer of the first `method path` call
    and raises ReadTimeout instead, as if the connection died after the server acted."""

    def __init__(self, method: str, path_pattern: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.method = method
        self.path = re.compile(path_pattern)
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self.lost and request.method == self.method and self.path.fullmatch(request.url.path):
            await response.aread()
            await response.aclose()
            self.lost += 1
            raise httpx.ReadTimeout("answer lost", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("tuned_model_id", [None, "caller-chosen-id"])
async def test_create_retried_after_lost_answer_makes_one_model(
    emulator: RunningEmulator, tuned_model_id: str | None
) -> None:
    transport = LoseResponses("POST", "/v1beta/tunedModels")
    sleeps = RecordingSleep()
    async with GeminiClient(TEST_KEY, base_url=emulator.url, transport=transport, sleep=sleeps) as client:
        operation = await client.create_tuned_model(
            display_name="number generator model",
            base_model=BASE_MODEL,
            examples=EXAMPLES,
            tuned_model_id=tuned_model_id,
        )
    assert transport.lost == 1 and len(sleeps.calls) == 1
    ids = emulator.emulator.model_ids()
    assert len(ids) == 1
    if tuned_model_id:
        assert ids == [tuned_model_id]
    model_name = f"tunedModels/{ids[0]}"
    assert operation.metadata is not None and operation.metadata.tuned_model == model_name
    stored = emulator.emulator.list_operations(ids[0])["operations"][0]
    assert operation.name == stored["name"] and not operation.done
    stats = emulator.emulator.stats()
    assert stats["by_method"]["tunedModels.create"] == 2 and stats["by_status"]["409"] == 1


async def test_create_generates_an_id_from_the_display_name(emulator: RunningEmulator) -> None:
    urls: list[httpx.URL] = []

    async def remember(request: httpx.Request) -> None:
        urls.append(request.url)

    http = httpx.AsyncClient(event_hooks={"request": [remember]})
    async with http, GeminiClient(TEST_KEY, base_url=emulator.url, http_client=http) as client:
        name = await create(client, "Number Generator Model!")
    assert re.fullmatch(r"tunedModels/number-generator-model-[a-z0-9]{12}", name)
    assert urls[0].params["tunedModelId"] == name.removeprefix("tunedModels/")
    assert re.fullmatch(r"[a-z]([a-z0-9-]{0,38}[a-z0-9])?", new_tuned_model_id("9" * 80))


async def test_delete_retried_after_lost_answer_succeeds(emulator: RunningEmulator) -> None:
    transport = LoseResponses("DELETE", r"/v1beta/tunedModels/.+")
    async with GeminiClient(
        TEST_KEY, base_url=emulator.url, transport=transport, sleep=RecordingSleep()
    ) as client:
        name = await create(client)
        await client.delete_tuned_model(name)
    assert transport.lost == 1 and emulator.emulator.model_ids() == []


async def test_patch_updates_the_masked_fields(gemini_client: GeminiClient) -> None:
    name = await create(gemini_client)
    model = await gemini_client.update_tuned_model(name, display_name="renamed", description="counts up")
    assert (model.display_name, model.description) == ("renamed", "counts up")
    assert (await gemini_client.get_tuned_model(name)).display_name == "renamed"


# -- credentials -----------------------------------------------------------------------------------


async def test_api_key_never_in_urls_or_logs(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        seen.append(request)

    script(emulator, {"code": 429, "retry_after_seconds": 0}, {"code": 503, "method": "operations.get"})
    http = httpx.AsyncClient(event_hooks={"request": [remember]})
    async with (
        http,
        GeminiClient(TEST_KEY, base_url=emulator.url, http_client=http, sleep=RecordingSleep()) as client,
    ):
        assert TEST_KEY not in repr(client)
        await client.list_tuned_models(page_size=2)
        operation = await client.create_tuned_model(
            display_name="k", base_model=BASE_MODEL, examples=EXAMPLES
        )
        await client.get_operation(operation.name)
        emulator.emulator.finish_all()
        assert operation.metadata is not None and operation.metadata.tuned_model is not None
        await client.generate_content(operation.metadata.tuned_model, "1")
        with pytest.raises(GeminiAPIError):
            await client.get_tuned_model("missing")
        await client.delete_tuned_model(operation.metadata.tuned_model)
    assert len(seen) >= 8
    for request in seen:
        assert TEST_KEY not in str(request.url) and "key=" not in str(request.url)
        assert request.headers["x-goog-api-key"] == TEST_KEY
    assert caplog.records, "expected debug/retry log lines"
    for record in caplog.records:
        assert TEST_KEY not in record.getMessage()


async def test_oauth_headers(emulator: RunningEmulator) -> None:
    seen: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        seen.append(request)

    http = httpx.AsyncClient(event_hooks={"request": [remember]})
    async with (
        http,
        GeminiClient(
            access_token="ya29.token", user_project="my-project", base_url=emulator.url, http_client=http
        ) as client,
    ):
        await client.list_tuned_models()
    assert seen[0].headers["authorization"] == "Bearer ya29.token"
    assert seen[0].headers["x-goog-user-project"] == "my-project"
    assert "x-goog-api-key" not in seen[0].headers
    with pytest.raises(ValueError):
        GeminiClient(None)
