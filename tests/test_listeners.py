"""Single listeners, imported and called alone: a real Store on a SQLite file, a fake ack and
respond that record what the user would see, no Bolt and no Slack."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.backends.backend import TuningBackend
from bot.config import Settings
from bot.domain.errors import BackendError
from bot.domain.types import ModelSummary, TrainingExample
from bot.listeners.commands import SUBCOMMANDS, tune
from bot.listeners.commands.help import show_help
from bot.listeners.commands.status import show_status
from bot.listeners.events.thread_reply import thread_reply
from bot.listeners.requests import CommandRequest, EventRequest, ViewRequest
from bot.listeners.views.upload import upload_submitted
from bot.presentation import blocks
from bot.slack.context import AppContext
from bot.slack.reporter import SlackReporter
from bot.storage.store import Store

TEAM = "T0TEAM"
OWNER = "U0OWNER"
OTHER = "U0OTHER"
CHANNEL = "C0CHANNEL"


class Recorder:
    """Stands in for Bolt's ack or respond: remembers each call's keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)

    @property
    def texts(self) -> list[str]:
        return [str(call.get("text") or "") for call in self.calls]


class GoneModels:
    """A tuning service where every model name is valid and none exists."""

    name = "fake"

    def model_name(self, text: str) -> str:
        return text if text.startswith("tunedModels/") else f"tunedModels/{text}"

    async def get_model(self, model_name: str) -> ModelSummary:
        raise BackendError(f"{model_name} not found", code=404, not_found=True)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    store = Store.from_url(f"sqlite:///{tmp_path / 'tunebot.db'}")
    client = AsyncWebClient(token="xoxb-test", base_url="http://127.0.0.1:9/api/")
    context = AppContext(
        settings=Settings(),
        store=store,
        backend=cast(TuningBackend, GoneModels()),
        client=client,
        reporter=SlackReporter(client),
        http=httpx.AsyncClient(),
    )
    yield context
    await context.http.aclose()
    store.engine.dispose()


def command(text: str, user_id: str = OWNER) -> tuple[CommandRequest, Recorder, Recorder]:
    ack, respond = Recorder(), Recorder()
    payload = {"text": text, "team_id": TEAM, "user_id": user_id, "channel_id": CHANNEL, "trigger_id": "1.2"}
    return CommandRequest.from_payload(payload, ack=ack, respond=respond), ack, respond


async def test_help_is_answered_in_the_ack(ctx: AppContext) -> None:
    request, ack, respond = command("help")
    await show_help(ctx, request)
    assert len(ack.calls) == 1 and not respond.calls
    assert "/tune upload" in ack.texts[0]
    assert ack.calls[0]["blocks"], "the help comes as blocks too"


async def test_question_mark_and_nothing_are_help_too(ctx: AppContext) -> None:
    answers = []
    for text in ("?", "", "help"):
        request, ack, _ = command(text)
        await tune(ctx, request)
        answers.append(ack.calls)
    assert answers[0] == answers[1] == answers[2]


async def test_a_mistyped_subcommand_gets_did_you_mean(ctx: AppContext) -> None:
    request, ack, respond = command("staus")
    await tune(ctx, request)
    assert not respond.calls
    assert "I don't know `/tune staus`. Did you mean `/tune status`?" in ack.texts[0]


async def test_every_subcommand_the_help_names_has_a_listener_and_every_listener_is_in_the_help() -> None:
    _, body = blocks.help_blocks()
    named = set(re.findall(r"/tune (\w+)", json.dumps(body)))
    assert named, "the help names no subcommand"
    assert named == set(SUBCOMMANDS) - {"help"}


async def test_status_of_someone_with_no_jobs(ctx: AppContext) -> None:
    request, ack, _ = command("status")
    await show_status(ctx, request)
    assert ack.texts == ["You have no tuning jobs. Start one with `/tune start <dataset>`."]


async def test_status_of_a_job_they_do_not_have(ctx: AppContext) -> None:
    request, ack, respond = command("status #7")
    await tune(ctx, request)
    assert ack.texts == ["You have no job `#7`. `/tune status` lists yours."]
    assert not respond.calls


async def test_a_mistake_found_after_the_ack_goes_to_respond(ctx: AppContext) -> None:
    request, ack, respond = command("try gone what is 2+2")
    await tune(ctx, request)
    assert ack.calls == [{}], "acknowledged before the service was asked"
    assert respond.calls == [
        {
            "text": "There is no tuned model `gone` (any more). `/tune list` shows the models.",
            "response_type": "ephemeral",
        }
    ]


async def test_only_the_owner_renames_a_dataset(ctx: AppContext) -> None:
    await ctx.store.run(
        ctx.store.datasets.add,
        team_id=TEAM,
        owner_user_id=OWNER,
        channel_id=CHANNEL,
        name="sales",
        file_name="sales.csv",
        format="csv",
        sha256="0" * 64,
        examples=[TrainingExample("a", "b"), TrainingExample("c", "d")],
    )
    request, ack, _ = command("dataset rename sales revenue", user_id=OTHER)
    await tune(ctx, request)
    assert ack.texts[0].startswith(f":no_entry: Only <@{OWNER}> (who uploaded *sales*)")

    request, ack, _ = command("dataset rename sales revenue")
    await tune(ctx, request)
    assert ack.texts == [":pencil2: Renamed dataset *sales* to *revenue*."]
    assert await ctx.store.run(ctx.store.datasets.names, TEAM) == ["revenue"]


async def test_the_upload_modal_wants_a_file(ctx: AppContext) -> None:
    ack = Recorder()
    view = {"state": {"values": {"file": {"f": {"type": "file_input", "files": []}}}}}
    body = {"user": {"id": OWNER}, "team": {"id": TEAM}}
    await upload_submitted(ctx, ViewRequest(ack=ack, body=body, view=view))
    assert ack.calls == [{"response_action": "errors", "errors": {"file": "Choose a file to upload."}}]


async def test_a_reply_outside_a_try_thread_is_left_alone(ctx: AppContext) -> None:
    # Nothing is posted (the fake client's address refuses connections, so a post would raise)
    event = {"type": "message", "channel": CHANNEL, "ts": "2.0", "thread_ts": "1.0", "text": "hi"}
    await thread_reply(ctx, EventRequest(body={"event_id": "Ev1"}, event=event))
    # ... and nothing is written: the event id is not even recorded as delivered.
    assert await ctx.store.run(ctx.store.events.first_delivery, "Ev1")
