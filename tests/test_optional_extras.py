"""Optional extras fail alone (#21 A3): the length chart in a DM, Home tab redraws and channel
joins may each fail the ways Slack fails, and the user's answer still arrives (one log line)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.datasets.samples import tutorial_csv
from standins.fakeslack import FakeSlack, Workspace
from standins.offline import OfflineStack
from tests.helpers.emulator import outside_models
from tests.helpers.slack import (
    OWNER,
    all_text,
    command,
    eventually,
    instant_slack_retries,
    store_of,
    upload_file,
    wait_for,
)

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
OWNER_DM = "D" + OWNER[1:]
RANDOM = "C0RANDOM"
CHART_NOTE = "The length chart is in your DM with me."

Fault = Callable[[Workspace], None]
# More failures in a row than the bot's Slack client retries (its retries wait on no clock
# here): the call fails for good. Left-over faults are cleared before the next step.
GIVE_UP = 10

# The ways a length chart can fail to reach the uploader's DM.
CHART_FAULTS: dict[str, Fault] = {
    # a stand-in once answered so; the bot raised TypeError and the upload was never confirmed
    "conversations.open ok without a channel": lambda ws: ws.open_without_channel(),
    "conversations.open user_disabled": lambda ws: ws.fail("conversations.open", "user_disabled"),
    "conversations.open without im:write": lambda ws: ws.missing_scopes.add("im:write"),
    # retried twice by the client, then given up
    "conversations.open HTTP 500": lambda ws: ws.fail("conversations.open", status=500, times=GIVE_UP),
    "conversations.open connection dropped": lambda ws: ws.drop_after_storing("conversations.open", GIVE_UP),
    "files.getUploadURLExternal connection dropped": lambda ws: ws.drop_after_storing(
        "files.getUploadURLExternal", GIVE_UP
    ),
    "files.completeUploadExternal refused": lambda ws: ws.fail(
        "files.completeUploadExternal", "invalid_channel"
    ),
}


def manifest_bot_scopes() -> set[str]:
    """The bot scopes manifest.yml asks for (`oauth_config.scopes.bot`)."""
    text = MANIFEST.read_text(encoding="utf-8")
    section = text.split("oauth_config:", 1)[1].split("\n    bot:\n", 1)[1]
    scopes = set()
    for line in section.splitlines():
        found = re.match(r"^\s+- ([a-z:._]+)", line)
        if not found:
            break
        scopes.add(found.group(1))
    return scopes


def extra_failures(caplog: pytest.LogCaptureFixture, token: str) -> list[logging.LogRecord]:
    """The bot's warnings and errors; none carries a traceback or the token."""
    records = [r for r in caplog.records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]
    for record in records:
        assert record.exc_info is None, record.getMessage()
        assert token not in record.getMessage() and "\n" not in record.getMessage()
    return records


def test_fake_slack_conversations_open_fails_as_slack_does() -> None:
    fake = FakeSlack()
    ws = fake.workspace
    ws.add_user(OWNER, "olivia")
    ws.add_user("U0ROBOT", "robot", is_bot=True)
    with fake.serve():

        def open_dm(user: str) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {ws.bot_token}"}
            answer: dict[str, object] = httpx.post(
                fake.api_url + "conversations.open", data={"users": user}, headers=headers
            ).json()
            return answer

        assert open_dm(OWNER) == {"ok": True, "channel": {"id": OWNER_DM}}
        assert open_dm("U0ROBOT") == {"ok": False, "error": "cannot_dm_bot"}
        assert open_dm("U0NOBODY") == {"ok": False, "error": "user_not_found"}
        ws.open_without_channel()
        assert open_dm(OWNER) == {"ok": True}
        assert open_dm(OWNER)["channel"] == {"id": OWNER_DM}
        ws.install({"chat:write", "files:read"})
        assert open_dm(OWNER) == {"ok": False, "error": "missing_scope"}
        ws.install({"chat:write", "files:read", "im:write"})
        assert open_dm(OWNER)["ok"] is True


def test_the_manifest_grants_what_the_fake_slack_checks() -> None:
    scopes = manifest_bot_scopes()
    assert {"chat:write", "files:write", "channels:join"} <= scopes  # the parse found the list
    assert "im:write" in scopes  # conversations.open: the length chart in the uploader's DM


async def test_with_the_manifests_scopes_the_length_chart_reaches_the_dm(stack: OfflineStack) -> None:
    stack.workspace.install(manifest_bot_scopes())
    answer = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert "Stored dataset *tutorial*: 15 examples" in answer.text and CHART_NOTE in answer.text
    assert [f.name for f in stack.workspace.uploads(OWNER_DM)] == ["tunebot-dataset-1-lengths.png"]


@pytest.mark.parametrize("fault", CHART_FAULTS.values(), ids=CHART_FAULTS.keys())
async def test_a_length_chart_that_cannot_reach_the_dm_leaves_the_upload_answered(
    stack: OfflineStack, caplog: pytest.LogCaptureFixture, fault: Fault
) -> None:
    instant_slack_retries(stack)
    caplog.set_level(logging.WARNING)
    fault(stack.workspace)
    answer = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert "Stored dataset *tutorial*: 15 examples" in answer.text
    assert "/tune start tutorial" in answer.text
    assert CHART_NOTE not in answer.text  # no promise of a chart that is not there
    assert store_of(stack).datasets.by_name(stack.workspace.team_id, "tutorial") is not None
    failures = extra_failures(caplog, stack.workspace.bot_token)
    assert [r.getMessage() for r in failures if "length chart" in r.getMessage()], failures


async def test_a_home_tab_that_cannot_be_drawn_leaves_the_answer_alone(
    stack: OfflineStack, caplog: pytest.LogCaptureFixture
) -> None:
    assert stack.sender is not None and stack.runtime is not None and stack.runtime.ctx.home is not None
    instant_slack_retries(stack)
    caplog.set_level(logging.WARNING)
    home = stack.runtime.ctx.home
    home.min_interval = 0.0
    await stack.sender.app_home_opened(OWNER)
    published = await eventually(lambda: home.published)

    def home_failures() -> int:
        failures = extra_failures(caplog, stack.workspace.bot_token)
        return len([r for r in failures if "Home tab" in r.getMessage()])

    stack.workspace.drop_after_storing("views.publish", GIVE_UP)  # the redraw after the upload
    answer = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert "Stored dataset *tutorial*: 15 examples" in answer.text
    await eventually(lambda: home_failures() == 1)
    stack.workspace.clear_faults()
    stack.workspace.fail("views.publish", "internal_error", status=500, times=GIVE_UP)
    renamed = await command(stack, OWNER, "dataset rename tutorial numbers")
    assert "numbers" in (renamed if isinstance(renamed, str) else renamed.text)
    await eventually(lambda: home_failures() == 2)
    assert home.published == published
    # and the next redraw shows it all
    stack.workspace.clear_faults()
    await stack.sender.app_home_opened(OWNER)
    await eventually(lambda: home.published > published)
    view = stack.workspace.home_view(OWNER)
    assert view is not None and "*numbers* — 15 examples" in all_text({"blocks": view.blocks})


JOIN_FAULTS: dict[str, Fault] = {
    "conversations.join internal_error": lambda ws: ws.fail("conversations.join", "internal_error"),
    "conversations.join ratelimited": lambda ws: ws.rate_limit("conversations.join", times=GIVE_UP),
    "conversations.join HTTP 500": lambda ws: ws.fail("conversations.join", status=500, times=GIVE_UP),
    "conversations.join connection dropped": lambda ws: ws.drop_after_storing("conversations.join", GIVE_UP),
    "conversations.info connection dropped": lambda ws: ws.drop_after_storing("conversations.info", GIVE_UP),
}


@pytest.mark.parametrize("fault", JOIN_FAULTS.values(), ids=JOIN_FAULTS.keys())
async def test_a_channel_join_that_fails_leaves_the_try_thread_answered(
    stack: OfflineStack, caplog: pytest.LogCaptureFixture, fault: Fault
) -> None:
    """chat:write.public posts in a public channel without joining it: the prompt and the
    answer still arrive (only replies in the thread need the bot in the channel)."""
    assert stack.sender is not None
    instant_slack_retries(stack)
    caplog.set_level(logging.WARNING)
    [model] = await outside_models(stack, 1)
    stack.workspace.add_channel(RANDOM, "random", bot_is_member=False)
    fault(stack.workspace)
    await stack.sender.slash_command(OWNER, f"try {model} 5", channel_id=RANDOM)
    prompt = await wait_for(
        stack, lambda: next((m for m in stack.workspace.messages(RANDOM) if "asked" in m.text), None)
    )

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(RANDOM, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert answers() == ["6"]
    failures = extra_failures(caplog, stack.workspace.bot_token)
    assert [r for r in failures if RANDOM in r.getMessage()], failures
