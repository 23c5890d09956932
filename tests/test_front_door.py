"""Unauthenticated and replayed traffic at tunebot's `/slack/events`, what reaches the log,
where the bot token goes, and user input echoed back: over real HTTP on loopback."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.datasets.samples import tutorial_csv
from bot.logs import configure_logging
from bot.slack.door import MAX_BODY_BYTES
from bot.slack.files import allowed_url, file_origins
from bot.storage.models import TuningJob
from standins.fakeslack import Forge
from standins.loopback import BackgroundServer
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, OWNER, command, store_of, upload_file, wait_for


def raw_post(url: str, head: bytes, body: bytes, timeout: float = 5.0) -> bytes:
    """Send a request by hand (headers claiming more than is sent) and read the first answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=timeout) as sock:
        sock.sendall(head + body)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


async def test_a_body_over_the_limit_is_refused_before_it_is_read(stack: OfflineStack) -> None:
    assert stack.server is not None and stack.sender is not None
    head = (
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 104857600\r\n\r\n"
    )
    # Only 64 KiB of the 100 MB announced are sent: the answer must not wait for the rest.
    answer = raw_post(stack.server.url, head, b"x" * 65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"y" * 65536

    async with httpx.AsyncClient() as client:  # streamed, no Content-Length
        streamed = await client.post(stack.server.url + "/slack/events", content=chunks())
    assert streamed.status_code == 413
    help_answer = await stack.sender.slash_command(OWNER, "help")
    assert help_answer.status_code == 200 and help_answer.elapsed < 3


@pytest.mark.parametrize("timestamp", ["abc", "1733000000.5", "", "-1", "9" * 5000])
async def test_a_signature_timestamp_that_is_not_an_integer_is_refused_with_401(
    stack: OfflineStack, timestamp: str
) -> None:
    assert stack.sender is not None
    sent = await stack.sender.slash_command(
        OWNER, "help", forge=Forge(headers={"X-Slack-Request-Timestamp": timestamp})
    )
    assert sent.status_code == 401


async def test_no_request_body_or_response_url_reaches_any_log_line(
    stack: OfflineStack, debug_log: io.StringIO
) -> None:
    assert stack.sender is not None
    configure_logging("DEBUG", stack.settings.secrets(), stream=debug_log)
    private = "very private words about payroll"
    for forge in (Forge(secret="not-the-secret"), Forge(omit_signature=True), Forge(timestamp=1)):
        refused = await stack.sender.slash_command(OWNER, f"start {private}", forge=forge)
        assert refused.status_code == 401
    answered = await command(stack, OWNER, f'start "{private}"')
    assert "no dataset" in str(answered)
    await command(stack, OWNER, "list")
    log = debug_log.getvalue()
    assert "DEBUG" in log and "refused a request to /slack/events" in log
    response_urls = [
        target.id for target in map(stack.workspace.response_target, stack.workspace._responses) if target
    ]
    assert len(response_urls) >= 5
    for secret in [private, "payroll", "trigger_id", "/response/", *response_urls]:
        assert secret not in log, secret


async def test_a_replayed_signed_command_does_nothing(stack: OfflineStack) -> None:
    assert stack.sender is not None and stack.server is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    sent = await stack.sender.slash_command(OWNER, "start tutorial")
    assert sent.status_code == 200
    await wait_for(stack, lambda: [m for m in stack.workspace.messages(CHANNEL) if m.is_bot])
    async with httpx.AsyncClient() as client:
        for _ in range(2):  # the same body, signature and trigger_id, well within five minutes
            replay = await client.post(sent.response.request.url, content=sent.body, headers=sent.headers)
            assert replay.status_code == 200
    time.sleep(0.5)
    with store_of(stack).session() as session:
        assert len(session.exec(select(TuningJob)).all()) == 1


@pytest.mark.parametrize(
    "text",
    [
        "start tutorial epochs=<!channel>",
        "start tutorial learning_rate=<!here>",
        "start tutorial <@U0OTHER>=1",
        "start tutorial batch_size=<!subteam^S1|@team>&",
        "delete <!channel>",
        "try <@U0OTHER|oscar> hello",
        "status <!here>",
    ],
)
async def test_user_input_is_echoed_without_live_mentions(stack: OfflineStack, text: str) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    answer = await command(stack, OWNER, text)
    shown = answer if isinstance(answer, str) else answer.text
    assert "<!" not in shown and "<@" not in shown, shown


async def test_the_bot_token_goes_only_to_the_exact_origin_of_slacks_file_hosts(stack: OfflineStack) -> None:
    seen: list[str | None] = []

    async def steal(request: Request) -> Response:
        seen.append(request.headers.get("authorization"))
        return PlainTextResponse("text_input,output\n1,2\n")

    # Same host as the fake Slack, another port: not Slack's file host.
    with BackgroundServer(Starlette(routes=[Route("/{p:path}", steal)])) as other:
        file = stack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)
        stack.workspace.redirect_download(str(file["id"]), other.url + "/tutorial.csv")
        assert stack.sender is not None
        await stack.sender.message(OWNER, CHANNEL, f"<@{stack.workspace.bot_user_id}> data", files=[file])
        answer = await wait_for(stack, lambda: stack.workspace.ephemerals(user=OWNER))
        assert "not one of Slack's file hosts" in answer[0].text
        assert all(stack.workspace.bot_token not in (h or "") for h in seen)

    origins = file_origins("https://slack.com/api/")
    assert allowed_url("https://files.slack.com/files-pri/T1-F1/x.csv", origins)
    for url in (
        "http://files.slack.com/files-pri/T1-F1/x.csv",  # not https
        "https://files.slack.com:8443/files-pri/T1-F1/x.csv",  # another port
        "https://files.slack.com.evil.example/x.csv",
        "https://evil.example/files.slack.com/x.csv",
    ):
        assert not allowed_url(url, origins), url


@pytest.mark.parametrize("signed", [False, True])
async def test_slacks_ssl_check_is_answered_200_and_does_nothing(stack: OfflineStack, signed: bool) -> None:
    """Slack checks the certificate of a slash command's URL with an unsigned-or-signed
    `ssl_check=1` POST; Bolt answers 200 with an empty body, before any signature check."""
    assert stack.server is not None
    body = b"ssl_check=1&token=legacy-verification-token"
    content_type = "application/x-www-form-urlencoded"
    headers = {"Content-Type": content_type}
    if signed:
        assert stack.sender is not None
        headers = stack.sender.signed_headers(body, content_type)
    calls_before = len(stack.workspace.calls())
    async with httpx.AsyncClient() as client:
        answer = await client.post(stack.server.url + "/slack/events", content=body, headers=headers)
    assert answer.status_code == 200 and answer.text == ""
    assert len(stack.workspace.calls()) == calls_before


async def test_an_unsigned_request_that_only_mentions_ssl_check_is_still_refused(stack: OfflineStack) -> None:
    assert stack.server is not None
    async with httpx.AsyncClient() as client:
        for body in (
            b"ssl_check=0&command=%2Ftune",
            b"command=%2Ftune&text=ssl_check%3D1",
            b"ssl_check=1&ssl_check=0",
        ):
            answer = await client.post(
                stack.server.url + "/slack/events",
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert answer.status_code == 401, body
