"""The fake Slack enforces Slack's per-method rate limits, on the workspace's clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from standins.fakeslack import DEFAULT_CHANNEL, FakeSlack, Workspace
from standins.fakeslack.ratelimits import POST_BURST, TIER_PER_MINUTE, per_minute
from tests.helpers.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def limited(clock: ManualClock) -> Iterator[FakeSlack]:
    with FakeSlack(Workspace(clock=clock)).serve() as fake:
        fake.workspace.add_channel("C0OTHER", "other")
        yield fake


def client_for(fake: FakeSlack) -> AsyncWebClient:
    # No retry handlers: the test sees each 429 itself.
    return AsyncWebClient(token=fake.bot_token, base_url=fake.api_url, retry_handlers=[])


async def refusal(call: object) -> tuple[int, int]:
    with pytest.raises(SlackApiError) as info:
        await call  # type: ignore[misc]
    response = info.value.response
    assert response["error"] == "ratelimited"
    return response.status_code, int(response.headers["retry-after"])


def test_each_method_has_its_slack_tier() -> None:
    assert per_minute("chat.update") == TIER_PER_MINUTE[3] == 50
    assert per_minute("conversations.history") == per_minute("conversations.open") == 50
    assert per_minute("views.publish") == per_minute("users.info") == TIER_PER_MINUTE[4] == 100
    assert per_minute("files.completeUploadExternal") == per_minute("chat.postEphemeral") == 100
    assert per_minute("auth.test") is None


async def test_chat_update_is_refused_past_tier_3_until_the_window_moves(
    limited: FakeSlack, clock: ManualClock
) -> None:
    client = client_for(limited)
    posted = await client.chat_postMessage(channel=DEFAULT_CHANNEL, text="0%")
    for n in range(50):
        clock.advance(0.5)
        await client.chat_update(channel=DEFAULT_CHANNEL, ts=posted["ts"], text=f"{n}%")
    over = client.chat_update(channel=DEFAULT_CHANNEL, ts=posted["ts"], text="x")
    status, retry_after = await refusal(over)
    # The first edit leaves the one-minute window 60 - 24.5 s from now.
    assert status == 429 and retry_after == 36
    assert limited.workspace.message(DEFAULT_CHANNEL, posted["ts"]).text == "49%"  # type: ignore[union-attr]
    clock.advance(retry_after)
    await client.chat_update(channel=DEFAULT_CHANNEL, ts=posted["ts"], text="done")
    # Other methods have windows of their own.
    await client.conversations_history(channel=DEFAULT_CHANNEL)
    assert [c.status for c in limited.workspace.calls("chat.update")].count(429) == 1


async def test_posts_are_limited_per_channel_to_about_one_a_second(
    limited: FakeSlack, clock: ManualClock
) -> None:
    client = client_for(limited)
    for n in range(POST_BURST):
        await client.chat_postMessage(channel=DEFAULT_CHANNEL, text=f"burst {n}")
    status, retry_after = await refusal(client.chat_postMessage(channel=DEFAULT_CHANNEL, text="one more"))
    assert status == 429 and 1 <= retry_after <= POST_BURST
    await client.chat_postMessage(channel="C0OTHER", text="another channel is free")
    clock.advance(1.0)
    await client.chat_postMessage(channel=DEFAULT_CHANNEL, text="a second later")
    texts = [m.text for m in limited.workspace.messages(DEFAULT_CHANNEL)]
    assert "one more" not in texts and "a second later" in texts


async def test_limits_can_be_switched_off_for_tests_that_do_not_measure_rate() -> None:
    with FakeSlack(Workspace(clock=ManualClock(), rate_limits=False)).serve() as fake:
        client = client_for(fake)
        posted = await client.chat_postMessage(channel=DEFAULT_CHANNEL, text="0")
        for n in range(60):
            await client.chat_update(channel=DEFAULT_CHANNEL, ts=posted["ts"], text=str(n))
            await client.chat_postMessage(channel=DEFAULT_CHANNEL, text=str(n))
        assert all(c.status == 200 for c in fake.workspace.calls())
