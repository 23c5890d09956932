"""Behaviour of the fake Slack Web API, workspace and signed request sender."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.slack.retries import PacedRateLimitRetryHandler, retry_handlers
from standins.fakeslack import FakeSlack, Forge, SlackRequestSender, Workspace, WorkspaceEvent
from standins.loopback import BackgroundServer
from tests.helpers.clock import ManualClock
from tests.helpers.emulator import RecordingSleep

GENERAL = "C0GENERAL"
SECRET = "test-signing-secret"


def client_for(fake: FakeSlack, **kwargs: Any) -> AsyncWebClient:
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, **kwargs)


async def error_of(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# --------------------------------------------------------------------------- messages


async def test_post_update_keeps_every_version(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    posted = await client.chat_postMessage(channel=GENERAL, text="Tuning: 0%")
    assert posted["ok"] and posted["channel"] == GENERAL
    assert posted["message"]["bot_id"] == fake_slack.workspace.bot_id
    for percent in (25, 50, 100):
        updated = await client.chat_update(channel=GENERAL, ts=posted["ts"], text=f"Tuning: {percent}%")
        assert updated["ts"] == posted["ts"] and updated["text"] == f"Tuning: {percent}%"

    message = fake_slack.workspace.message(GENERAL, posted["ts"])
    assert message is not None
    assert message.texts == ["Tuning: 0%", "Tuning: 25%", "Tuning: 50%", "Tuning: 100%"]
    edit_times = [version.at for version in message.versions]
    assert edit_times == sorted(edit_times, key=float) and len(set(edit_times)) == 4
    assert [c.params["text"] for c in fake_slack.workspace.calls("chat.update")] == [
        "Tuning: 25%",
        "Tuning: 50%",
        "Tuning: 100%",
    ]
    assert all(c.token_present and c.token_valid for c in fake_slack.workspace.calls())


async def test_ts_strictly_increasing() -> None:
    workspace = Workspace()
    stamps = [workspace.new_ts() for _ in range(2000)]
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert [float(ts) for ts in stamps] == sorted(float(ts) for ts in stamps)
    assert len(set(stamps)) == len(stamps)


async def test_metadata_blocks_and_history(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    metadata = {"event_type": "tuning_job", "event_payload": {"job": "tunedModels/abc"}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*job* started"}}]
    posted = await client.chat_postMessage(channel=GENERAL, text="job", blocks=blocks, metadata=metadata)
    # form-encoded with metadata as a JSON string works too
    form = httpx.post(
        fake_slack.api_url + "chat.postMessage",
        data={"channel": GENERAL, "text": "second", "metadata": json.dumps(metadata)},
        headers={"Authorization": f"Bearer {fake_slack.bot_token}"},
    ).json()
    assert form["ok"], form

    plain = await client.conversations_history(channel=GENERAL)
    assert [m["text"] for m in plain["messages"]] == ["second", "job"]  # newest first
    assert all("metadata" not in m for m in plain["messages"])
    full = await client.conversations_history(channel=GENERAL, include_all_metadata=True)
    assert full["messages"][1]["metadata"] == metadata
    assert full["messages"][1]["blocks"] == blocks
    assert full["response_metadata"]["next_cursor"] == ""
    assert fake_slack.workspace.message(GENERAL, posted["ts"]).metadata == metadata  # type: ignore[union-attr]

    error = await error_of(
        client.chat_postMessage(channel=GENERAL, text="x", metadata={"event_type": "missing payload"})
    )
    assert error.response["error"] == "invalid_metadata_format"
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    error = await error_of(client.chat_postMessage(channel=GENERAL, text="x", blocks=too_long))
    assert error.response["error"] == "invalid_blocks"


async def test_threads_and_cursor_paging(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    root = await client.chat_postMessage(channel=GENERAL, text="root")
    replies = [
        (await client.chat_postMessage(channel=GENERAL, text=f"reply {i}", thread_ts=root["ts"]))["ts"]
        for i in range(5)
    ]
    # replying to a reply lands in the same thread
    nested = await client.chat_postMessage(channel=GENERAL, text="nested", thread_ts=replies[0])
    assert nested["message"]["thread_ts"] == root["ts"]

    history = await client.conversations_history(channel=GENERAL)
    assert [m["text"] for m in history["messages"]] == ["root"]
    assert history["messages"][0]["reply_count"] == 6

    texts: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await client.conversations_replies(channel=GENERAL, ts=root["ts"], limit=2, cursor=cursor)
        texts += [m["text"] for m in page["messages"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] == bool(cursor)
        if not cursor:
            break
    assert texts == ["root", *(f"reply {i}" for i in range(5)), "nested"]
    assert pages == 4
    assert [m.text for m in fake_slack.workspace.thread(GENERAL, replies[2])] == texts

    broadcast = await client.chat_postMessage(
        channel=GENERAL, text="done!", thread_ts=root["ts"], reply_broadcast=True
    )
    recent = await client.conversations_history(
        channel=GENERAL, oldest=replies[-1], include_all_metadata=True
    )
    assert [(m["text"], m.get("subtype")) for m in recent["messages"]] == [("done!", "thread_broadcast")]
    assert broadcast["ts"] in [m.ts for m in fake_slack.workspace.thread(GENERAL, root["ts"])]

    error = await error_of(client.conversations_replies(channel=GENERAL, ts="123.000001"))
    assert error.response["error"] == "thread_not_found"
    error = await error_of(client.conversations_history(channel=GENERAL, cursor="bogus!"))
    assert error.response["error"] == "invalid_cursor"


async def test_errors_like_slack(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    workspace = fake_slack.workspace
    workspace.add_user("U1", "ana")
    assert (await error_of(client.chat_postMessage(channel="C404", text="x"))).response[
        "error"
    ] == "channel_not_found"
    with pytest.warns(UserWarning, match="text"):
        assert (await error_of(client.chat_postMessage(channel=GENERAL))).response["error"] == "no_text"
    assert (await error_of(client.chat_update(channel=GENERAL, ts="1.000001", text="x"))).response[
        "error"
    ] == "message_not_found"
    human = workspace.post_user_message("U1", GENERAL, "mine")
    assert (await error_of(client.chat_update(channel=GENERAL, ts=human.ts, text="x"))).response[
        "error"
    ] == "cant_update_message"
    assert (await error_of(client.chat_delete(channel=GENERAL, ts=human.ts))).response[
        "error"
    ] == "cant_delete_message"

    bad_token = AsyncWebClient(token="xoxb-wrong", base_url=fake_slack.api_url)
    assert (await error_of(bad_token.auth_test())).response["error"] == "invalid_auth"
    no_token = httpx.post(fake_slack.api_url + "auth.test").json()
    assert no_token == {"ok": False, "error": "not_authed"}
    in_form = httpx.post(fake_slack.api_url + "auth.test", data={"token": fake_slack.bot_token}).json()
    assert in_form["ok"] and in_form["user_id"] == workspace.bot_user_id
    unknown = httpx.post(fake_slack.api_url + "chat.nope", data={"token": fake_slack.bot_token}).json()
    assert unknown == {"ok": False, "error": "unknown_method"}
    call = workspace.calls("auth.test")[0]
    assert not call.token_valid and call.error == "invalid_auth"


async def test_ephemeral_delete_permalink_and_misc(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    workspace = fake_slack.workspace
    workspace.add_user("U1", "ana", is_admin=True)
    sent = await client.chat_postEphemeral(channel=GENERAL, user="U1", text="only you")
    [ephemeral] = workspace.ephemerals(GENERAL, user="U1")
    assert ephemeral.message_ts == sent["message_ts"] and ephemeral.text == "only you"

    root = await client.chat_postMessage(channel=GENERAL, text="root")
    reply = await client.chat_postMessage(channel=GENERAL, text="reply", thread_ts=root["ts"])
    link = await client.chat_getPermalink(channel=GENERAL, message_ts=reply["ts"])
    assert link["permalink"].endswith(f"?thread_ts={root['ts']}&cid={GENERAL}")
    await client.chat_delete(channel=GENERAL, ts=reply["ts"])
    assert [m.text for m in workspace.thread(GENERAL, root["ts"])] == ["root"]
    assert (await client.users_info(user="U1"))["user"]["is_admin"] is True
    assert (await error_of(client.users_info(user="U404"))).response["error"] == "user_not_found"
    info = await client.conversations_info(channel=GENERAL)
    assert info["channel"]["name"] == "general" and info["channel"]["is_member"]
    joined = await client.conversations_join(channel=GENERAL)
    assert joined["warning"] == "already_in_channel"

    await client.assistant_threads_setStatus(channel_id="D0ANY", thread_ts=root["ts"], status="is thinking…")
    [status] = workspace.statuses(thread_ts=root["ts"])
    assert status.status == "is thinking…" and status.channel == "D0ANY"

    dm = await client.chat_postMessage(channel="U1", text="psst")
    assert dm["channel"].startswith("D") and workspace.messages(dm["channel"])[0].text == "psst"


async def test_subscribe_and_wait_for(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    events: list[WorkspaceEvent] = []
    unsubscribe = workspace.subscribe(events.append)
    client = client_for(fake_slack)

    def later() -> None:
        time.sleep(0.05)
        workspace.post_message(GENERAL, "from another thread")

    thread = threading.Thread(target=later)
    thread.start()
    found = await asyncio.to_thread(
        workspace.wait_for, lambda: [m for m in workspace.messages(GENERAL) if "another" in m.text], 2.0
    )
    thread.join()
    assert found[0].text == "from another thread"

    posted = await client.chat_postMessage(channel=GENERAL, text="a")
    await client.chat_update(channel=GENERAL, ts=posted["ts"], text="b")
    await client.chat_delete(channel=GENERAL, ts=posted["ts"])
    await workspace.async_wait_for(lambda: len(workspace.calls("chat.delete")) == 1, 1.0)
    unsubscribe()
    await client.chat_postMessage(channel=GENERAL, text="unseen")
    assert [e.kind for e in events] == [
        "message_posted",
        "message_posted",
        "message_updated",
        "message_deleted",
    ]
    assert events[2].payload.text == "b"
    with pytest.raises(TimeoutError):
        workspace.wait_for(lambda: False, timeout=0.05)


# --------------------------------------------------------------------------- views


VIEW = {
    "type": "modal",
    "callback_id": "start_tuning",
    "title": {"type": "plain_text", "text": "Start tuning"},
    "submit": {"type": "plain_text", "text": "Start"},
    "blocks": [
        {
            "type": "input",
            "block_id": "name",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


async def test_trigger_ids_expire_on_the_workspace_clock() -> None:
    clock = ManualClock()
    with FakeSlack(Workspace(clock=clock, trigger_ttl=3.0)).serve() as fake:
        client = client_for(fake)
        stale = fake.workspace.new_trigger("U1", ttl=0.05)
        fresh = fake.workspace.new_trigger("U1")
        clock.advance(0.1)
        assert (await error_of(client.views_open(trigger_id=stale, view=VIEW))).response[
            "error"
        ] == "expired_trigger_id"
        assert (await client.views_open(trigger_id=fresh, view=VIEW))["ok"]
        late = fake.workspace.new_trigger("U1")
        clock.advance(3.01)
        assert (await error_of(client.views_open(trigger_id=late, view=VIEW))).response[
            "error"
        ] == "expired_trigger_id"


async def test_views_and_trigger_ids(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    workspace = fake_slack.workspace
    trigger = workspace.new_trigger("U1")
    opened = await client.views_open(trigger_id=trigger, view=VIEW)
    view = opened["view"]
    assert view["id"].startswith("V") and view["callback_id"] == "start_tuning"
    assert view["root_view_id"] == view["id"] and view["state"] == {"values": {}}
    assert (await error_of(client.views_open(trigger_id=trigger, view=VIEW))).response[
        "error"
    ] == "exchanged_trigger_id"
    assert (await error_of(client.views_open(trigger_id="1.2.nope", view=VIEW))).response[
        "error"
    ] == "invalid_trigger_id"

    updated = await client.views_update(
        view_id=view["id"], view={**VIEW, "private_metadata": "x"}, hash=view["hash"]
    )
    assert updated["view"]["private_metadata"] == "x" and updated["view"]["hash"] != view["hash"]
    assert (await error_of(client.views_update(view_id=view["id"], view=VIEW, hash=view["hash"]))).response[
        "error"
    ] == "hash_conflict"
    assert (await error_of(client.views_update(view_id="V404", view=VIEW))).response["error"] == "not_found"
    pushed = await client.views_push(trigger_id=workspace.new_trigger("U1"), view=VIEW)
    assert pushed["view"]["previous_view_id"] == view["id"] and pushed["view"]["root_view_id"] == view["id"]
    assert [v.id for v in workspace.view_stack("U1")] == [view["id"], pushed["view"]["id"]]
    assert len(workspace.view(view["id"]).history) == 2  # type: ignore[union-attr]

    form = httpx.post(
        fake_slack.api_url + "views.open",
        data={
            "token": fake_slack.bot_token,
            "trigger_id": workspace.new_trigger("U2"),
            "view": json.dumps(VIEW),
        },
    ).json()
    assert form["ok"] and form["view"]["title"]["text"] == "Start tuning"

    long_title = {**VIEW, "title": {"type": "plain_text", "text": "A title that is far too long"}}
    error = await error_of(client.views_open(trigger_id=workspace.new_trigger("U1"), view=long_title))
    assert error.response["error"] == "invalid_arguments"
    assert "json-pointer:/view/title/text" in error.response["response_metadata"]["messages"][0]


# --------------------------------------------------------------------------- files


async def test_files_upload_v2_into_thread(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    workspace = fake_slack.workspace
    root = await client.chat_postMessage(channel=GENERAL, text="chart coming")
    events: list[WorkspaceEvent] = []
    workspace.subscribe(events.append)
    result = await client.files_upload_v2(
        channel=GENERAL,
        thread_ts=root["ts"],
        content=b"\x89PNG fake chart",
        filename="loss.png",
        title="Loss curve",
        initial_comment="Here is the loss curve",
    )
    file = result["file"]
    assert file["title"] == "Loss curve" and file["size"] == len(b"\x89PNG fake chart")
    [upload] = workspace.uploads(GENERAL)
    assert upload.content == b"\x89PNG fake chart" and upload.thread_ts == root["ts"]
    assert upload.initial_comment == "Here is the loss curve" and upload.mimetype == "image/png"
    thread = workspace.thread(GENERAL, root["ts"])
    assert [m.text for m in thread] == ["chart coming", "Here is the loss curve"]
    assert thread[1].files == [file["id"]]
    assert [c.method for c in workspace.calls()][-2:] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert "file_uploaded" in [e.kind for e in events]
    info = await client.files_info(file=file["id"])
    assert info["file"]["url_private_download"].startswith(fake_slack.url)

    error = await error_of(client.files_completeUploadExternal(files=[{"id": "F404"}], channel_id=GENERAL))
    assert error.response["error"] == "file_not_found"


async def test_download_requires_bot_token(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    file = workspace.add_file(
        "train.jsonl", b'{"text_input": "a", "output": "b"}\n', "jsonl", "application/jsonl"
    )
    url = file["url_private_download"]
    assert url.startswith(f"{fake_slack.url}/files-pri/{workspace.team_id}-{file['id']}/")
    auth = {"Authorization": f"Bearer {workspace.bot_token}"}
    ok = httpx.get(url, headers=auth)
    assert ok.status_code == 200 and ok.content == b'{"text_input": "a", "output": "b"}\n'
    assert ok.headers["content-type"].startswith("application/jsonl")
    for headers in ({}, {"Authorization": "Bearer xoxb-wrong"}):
        login = httpx.get(url, headers=headers)
        assert login.status_code == 200 and login.headers["content-type"].startswith("text/html")
        assert login.text.lstrip().lower().startswith("<!doctype html")
    assert httpx.get(file["url_private"], headers=auth).content == ok.content
    workspace.missing_scopes.add("files:read")
    assert httpx.get(url, headers=auth).headers["content-type"].startswith("text/html")
    workspace.missing_scopes.clear()

    workspace.redirect_download(
        file["id"], f"/files-pri/{workspace.team_id}-{file['id']}/moved.jsonl", times=1
    )
    moved = httpx.get(url, headers=auth)
    assert moved.status_code == 302 and moved.headers["location"].endswith("/moved.jsonl")
    assert httpx.get(url, headers=auth).status_code == 200  # only once
    workspace.redirect_download(file["id"], "https://evil.example/steal")
    assert httpx.get(url, headers=auth).headers["location"] == "https://evil.example/steal"
    assert [d.outcome for d in workspace.downloads] == [
        "file",
        "login_page",
        "login_page",
        "file",
        "login_page",
        "redirect",
        "file",
        "redirect",
    ]
    assert httpx.get(f"{fake_slack.url}/files-pri/{workspace.team_id}-F404/x").status_code == 404


async def test_download_with_project_downloader(fake_slack: FakeSlack) -> None:
    from bot.slack.files import DownloadError, download_slack_file

    workspace = fake_slack.workspace
    file = workspace.add_file("data.csv", b"a,b\n1,2\n", "csv", "text/csv")
    hosts = {fake_slack.url}
    workspace.redirect_download(file["id"], file["url_private"], times=1)
    spool = await download_slack_file(
        file["url_private_download"], token=workspace.bot_token, allowed_origins=hosts, max_bytes=1024
    )
    assert spool.read() == b"a,b\n1,2\n"
    with pytest.raises(DownloadError, match="sign-in page"):
        await download_slack_file(
            file["url_private_download"], token="xoxb-bad", allowed_origins=hosts, max_bytes=1024
        )


# --------------------------------------------------------------------------- faults


async def test_rate_limit_and_retry_handler(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    workspace.rate_limit("chat.postMessage", times=1, retry_after=0)
    plain = client_for(fake_slack)
    error = await error_of(plain.chat_postMessage(channel=GENERAL, text="x"))
    assert error.response.status_code == 429 and error.response["error"] == "ratelimited"
    assert error.response.headers["Retry-After"] == "0"

    workspace.rate_limit("chat.postMessage", times=2, retry_after=3)
    waits = RecordingSleep()
    handler = PacedRateLimitRetryHandler(max_retry_count=2, sleep=waits, jitter=lambda: 0.25)
    retrying = client_for(fake_slack, retry_handlers=[handler])
    posted = await retrying.chat_postMessage(channel=GENERAL, text="eventually")
    assert posted["ok"] and waits.calls == [3.25, 3.25]  # Retry-After, plus the jitter
    assert [c.status for c in workspace.calls("chat.postMessage")] == [429, 429, 429, 200]
    assert [m.text for m in workspace.messages(GENERAL)] == ["eventually"]

    raw = httpx.post(
        fake_slack.api_url + "auth.test", headers={"Authorization": f"Bearer {workspace.bot_token}"}
    )
    assert raw.status_code == 200
    workspace.rate_limit("*", times=1, retry_after=7)
    limited = httpx.post(
        fake_slack.api_url + "auth.test", headers={"Authorization": f"Bearer {workspace.bot_token}"}
    )
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json() == {"ok": False, "error": "ratelimited"}


async def test_the_bots_retry_handlers_wait_on_their_sleep(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    waits = RecordingSleep()
    client = client_for(fake_slack, retry_handlers=retry_handlers(sleep=waits))
    posted = await client.chat_postMessage(channel=GENERAL, text="x")
    workspace.fail("chat.update", times=2, status=500)
    assert (await client.chat_update(channel=GENERAL, ts=posted["ts"], text="y"))["ok"]
    assert len(waits.calls) == 2 and all(wait > 0 for wait in waits.calls)  # slack_sdk's backoff
    workspace.fail("chat.postMessage", status=500)
    assert (await error_of(client.chat_postMessage(channel=GENERAL, text="z"))).response.status_code == 500
    assert len(waits.calls) == 2  # a post that may be stored is not sent again
    workspace.rate_limit("chat.postMessage", retry_after=2)
    assert (await client.chat_postMessage(channel=GENERAL, text="z"))["ok"]
    assert len(waits.calls) == 3 and 2.0 <= waits.calls[-1] < 3.0


async def test_fail_injection(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    client = client_for(fake_slack)
    workspace.fail("chat.update", times=2)
    workspace.fail("views.open", error="fatal_error")
    posted = await client.chat_postMessage(channel=GENERAL, text="x")
    for _ in range(2):
        assert (await error_of(client.chat_update(channel=GENERAL, ts=posted["ts"], text="y"))).response[
            "error"
        ] == "internal_error"
    assert (await client.chat_update(channel=GENERAL, ts=posted["ts"], text="y"))["ok"]
    error = await error_of(client.views_open(trigger_id=workspace.new_trigger("U1"), view=VIEW))
    assert error.response["error"] == "fatal_error"


async def test_a_post_can_be_stored_and_then_fail_or_lose_its_answer(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    client = client_for(fake_slack, retry_handlers=[])  # slack_sdk's default one resends on a drop
    workspace.fail_after_storing("chat.postMessage")
    error = await error_of(client.chat_postMessage(channel=GENERAL, text="stored, then 500"))
    assert error.response.status_code == 500 and error.response["error"] == "internal_error"
    workspace.drop_after_storing("chat.postMessage")
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.chat_postMessage(channel=GENERAL, text="stored, then dropped")
    assert [m.text for m in workspace.messages(GENERAL)] == ["stored, then 500", "stored, then dropped"]
    assert (await client.chat_postMessage(channel=GENERAL, text="fine"))["ok"]


# --------------------------------------------------------------------------- sender


@dataclass
class BotStub:
    """A stand-in bot endpoint that verifies signatures and records what it got."""

    verifier: SignatureVerifier
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None

    def app(self) -> Starlette:
        async def events(request: Request) -> Response:
            body = await request.body()
            valid = self.verifier.is_valid_request(body, dict(request.headers))
            self.received.append({"body": body, "headers": dict(request.headers), "valid": valid})
            if not valid:
                return Response("invalid signature", status_code=401)
            if request.headers.get("content-type", "").startswith("application/json"):
                data = json.loads(body)
                if data.get("type") == "url_verification":
                    return JSONResponse({"challenge": data["challenge"]})
            if self.answer is not None:
                return JSONResponse(self.answer)
            return Response(b"", status_code=200)

        return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


@pytest.fixture
def bot_stub() -> Iterator[tuple[BotStub, str]]:
    stub = BotStub(SignatureVerifier(SECRET))
    with BackgroundServer(stub.app()) as server:
        yield stub, server.url


async def test_sender_slash_command_signed_and_response_url(
    fake_slack: FakeSlack, bot_stub: tuple[BotStub, str]
) -> None:
    stub, url = bot_stub
    workspace = fake_slack.workspace
    workspace.add_user("U1", "ana")
    async with SlackRequestSender(url, SECRET, workspace) as sender:
        sent = await sender.slash_command("U1", "start sales epochs=3")
        assert sent.status_code == 200 and sent.elapsed > 0
        form = {k: v[0] for k, v in parse_qs(stub.received[-1]["body"].decode()).items()}
        assert stub.received[-1]["valid"]
        assert form["command"] == "/tune" and form["text"] == "start sales epochs=3"
        assert form["user_name"] == "ana" and form["channel_name"] == "general"
        assert form["team_id"] == workspace.team_id and form["api_app_id"] == workspace.app_id
        assert form["response_url"].startswith(fake_slack.url + "/response/")

        # the trigger_id opens a modal once
        client = client_for(fake_slack)
        opened = await client.views_open(trigger_id=form["trigger_id"], view=VIEW)
        assert opened["view"]["id"]

        # respond via the response_url (what bolt's `respond` does)
        httpx.post(form["response_url"], json={"text": "working on it"})
        httpx.post(form["response_url"], json={"text": "for everyone", "response_type": "in_channel"})
        assert [e.text for e in workspace.ephemerals(GENERAL, "U1")] == ["working on it"]
        assert [m.text for m in workspace.messages(GENERAL)] == ["for everyone"]

        for forge in (
            Forge(secret="wrong-secret"),
            Forge(timestamp=int(time.time()) - 600),
            Forge(body=b"token=x&text=tampered", signature="v0=" + "0" * 64),
            Forge(omit_signature=True),
        ):
            rejected = await sender.slash_command("U1", "help", forge=forge)
            assert rejected.status_code == 401
            assert not stub.received[-1]["valid"]
        forged_body = await sender.slash_command("U1", "help", forge=Forge(body=b"custom=1"))
        assert forged_body.status_code == 200 and stub.received[-1]["body"] == b"custom=1"


async def test_sender_block_action_and_response_url_replace(
    fake_slack: FakeSlack, bot_stub: tuple[BotStub, str]
) -> None:
    stub, url = bot_stub
    workspace = fake_slack.workspace
    blocks = [
        {
            "type": "actions",
            "block_id": "job_actions",
            "elements": [{"type": "button", "action_id": "cancel_job", "value": "job-1", "text": {}}],
        }
    ]
    message = workspace.post_message(GENERAL, "Job running", blocks=blocks)
    async with SlackRequestSender(url, SECRET, workspace) as sender:
        sent = await sender.block_action("U1", "cancel_job", "job-1", GENERAL, message_ts=message.ts)
        payload = json.loads(parse_qs(stub.received[-1]["body"].decode())["payload"][0])
        assert payload["type"] == "block_actions" and stub.received[-1]["valid"]
        assert (
            payload["actions"][0]["block_id"] == "job_actions" and payload["actions"][0]["value"] == "job-1"
        )
        assert payload["container"] == {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": GENERAL,
            "is_ephemeral": False,
        }
        assert payload["message"]["ts"] == message.ts and payload["user"]["id"] == "U1"
        assert sent.response_url is not None
        httpx.post(sent.response_url, json={"replace_original": True, "text": "Job cancelled"})
        assert message.texts == ["Job running", "Job cancelled"]
        httpx.post(sent.response_url, json={"delete_original": True})
        assert workspace.messages(GENERAL) == []

        ephemeral = workspace.post_ephemeral(GENERAL, "U1", "Delete model?")
        sent = await sender.block_action(
            "U1", "confirm", "yes", GENERAL, ephemeral.message_ts, is_ephemeral=True
        )
        assert sent.response_url is not None
        httpx.post(sent.response_url, json={"replace_original": True, "text": "Deleted"})
        assert [v.text for v in ephemeral.versions] == ["Delete model?", "Deleted"]
        for _ in range(4):
            assert httpx.post(sent.response_url, json={"text": "again"}).status_code == 200
        assert httpx.post(sent.response_url, json={"text": "too many"}).status_code == 404


async def test_sender_view_submission_and_events(
    fake_slack: FakeSlack, bot_stub: tuple[BotStub, str]
) -> None:
    stub, url = bot_stub
    workspace = fake_slack.workspace
    view = workspace.open_view(workspace.new_trigger("U1"), VIEW)
    async with SlackRequestSender(url, SECRET, workspace) as sender:
        stub.answer = {"response_action": "errors", "errors": {"name": "Taken"}}
        await sender.view_submission("U1", view.to_api(), {"name": {"value": "my-model"}})
        payload = json.loads(parse_qs(stub.received[-1]["body"].decode())["payload"][0])
        assert payload["type"] == "view_submission"
        assert payload["view"]["state"]["values"] == {
            "name": {"value": {"type": "plain_text_input", "value": "my-model"}}
        }
        assert not view.closed
        stub.answer = None
        await sender.view_submission("U1", view, {"name": {"value": "other"}})
        assert view.closed and workspace.view_stack("U1") == []

        sent = await sender.message("U1", GENERAL, f"<@{workspace.bot_user_id}> status")
        envelope = json.loads(stub.received[-1]["body"])
        assert envelope["type"] == "event_callback" and envelope["event"]["type"] == "app_mention"
        assert envelope["event"]["ts"] == sent.message.ts  # type: ignore[union-attr]
        assert envelope["team_id"] == workspace.team_id and envelope["event_id"].startswith("Ev")
        assert workspace.messages(GENERAL)[-1].text.endswith("status")

        file = workspace.add_file("train.jsonl", b"{}\n", "jsonl", "application/jsonl", user="U1")
        await sender.message("U1", GENERAL, "here", thread_ts=sent.message.ts, files=[file])  # type: ignore[union-attr]
        event = json.loads(stub.received[-1]["body"])["event"]
        assert event["type"] == "message" and event["subtype"] == "file_share"
        assert event["files"][0]["id"] == file["id"] and event["thread_ts"] == sent.message.ts  # type: ignore[union-attr]

        retried = await sender.event({"type": "app_home_opened", "user": "U1"}, event_id="Ev1", retry_num=1)
        assert retried.status_code == 200 and stub.received[-1]["headers"]["x-slack-retry-num"] == "1"
        challenge = await sender.url_verification("abc")
        assert challenge.json() == {"challenge": "abc"}


# --------------------------------------------------------------------------- with slack-bolt


def bolt_app(fake: FakeSlack) -> Starlette:
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp

    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=fake.bot_token, base_url=fake.api_url),
    )

    @app.command("/tune")
    async def tune(ack: Any, respond: Any, client: AsyncWebClient, body: dict[str, Any]) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=VIEW)
        await respond(f"got `{body['text']}`")

    @app.view("start_tuning")
    async def submitted(ack: Any, view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        name = view["state"]["values"]["name"]["value"]["value"]
        await client.chat_postMessage(channel=GENERAL, text=f"started {name}")

    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], say: Any) -> None:
        await say(text="on it", thread_ts=event["ts"])

    @app.action("cancel_job")
    async def cancel(ack: Any, respond: Any) -> None:
        await ack()
        await respond(replace_original=True, text="cancelled")

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


async def test_round_trip_with_slack_bolt(fake_slack: FakeSlack) -> None:
    workspace = fake_slack.workspace
    with BackgroundServer(bolt_app(fake_slack)) as bot:
        async with fake_slack.sender(bot.url, SECRET) as sender:
            sent = await sender.slash_command("U1", "start sales")
            assert sent.status_code == 200
            [view] = await workspace.async_wait_for(lambda: workspace.views("U1"), 5)
            await workspace.async_wait_for(lambda: workspace.ephemerals(GENERAL, "U1"), 5)
            assert workspace.ephemerals(GENERAL, "U1")[0].text == "got `start sales`"

            await sender.view_submission("U1", view, {"name": {"value": "sales-v1"}})
            await workspace.async_wait_for(lambda: workspace.messages(GENERAL), 5)
            assert workspace.messages(GENERAL)[0].text == "started sales-v1"
            assert view.closed

            mention = await sender.message("U1", GENERAL, f"<@{workspace.bot_user_id}> status")
            assert mention.message is not None
            replies = await workspace.async_wait_for(
                lambda: workspace.thread(GENERAL, mention.message.ts)[1:],
                5,  # type: ignore[union-attr]
            )
            assert replies[0].text == "on it" and replies[0].user == workspace.bot_user_id

            job = workspace.post_message(GENERAL, "job running")
            await sender.block_action("U1", "cancel_job", "job-1", GENERAL, message_ts=job.ts)
            await workspace.async_wait_for(lambda: len(job.versions) == 2, 5)
            assert job.texts == ["job running", "cancelled"]

            stale = await sender.slash_command("U1", "help", forge=Forge(timestamp=int(time.time()) - 600))
            assert stale.status_code == 401
            wrong = await sender.slash_command("U1", "help", forge=Forge(secret="nope"))
            assert wrong.status_code == 401


def test_sender_works_from_several_event_loops(fake_slack: FakeSlack, bot_stub: tuple[BotStub, str]) -> None:
    stub, url = bot_stub
    sender = fake_slack.sender(url, SECRET)
    for text in ("one", "two"):
        sent = asyncio.run(sender.message("U1", GENERAL, text))
        assert sent.status_code == 200
    assert [json.loads(r["body"])["event"]["text"] for r in stub.received] == ["one", "two"]
    assert [m.text for m in fake_slack.workspace.messages(GENERAL)] == ["one", "two"]
