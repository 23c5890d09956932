"""Channels and DMs as Slack really behaves (#15): events and history only where the bot is
a member; public channels are joined, private channels and people's DMs are refused clearly."""

from __future__ import annotations

from bot.datasets.samples import tutorial_csv
from bot.storage.models import TuningJob
from standins.fakeslack import FakeSlack
from standins.offline import OfflineStack
from tests.helpers.slack import OTHER, OWNER, eventually, shown_answer, store_of, upload_file, wait_for

RANDOM = "C0RANDOM"
SECRET = "C0SECRET"
PEOPLE_DM = "D0PEOPLE"
OWNER_DM = "D0OWNER"


async def ready_model(stack: OfflineStack, channel: str = "C0GENERAL") -> TuningJob:
    assert stack.sender is not None and stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await stack.sender.slash_command(OWNER, 'start tutorial name="numbers"', channel_id=channel)
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    stack.emulator.advance(60)
    await stack.poll(all_due=True)
    return job


async def try_and_reply(stack: OfflineStack, user: str, channel: str, reply: str, answer: str) -> None:
    """`/tune try numbers 5` in `channel`: answered in its thread, and so is `reply` there."""
    assert stack.sender is not None
    await stack.sender.slash_command(user, "try numbers 5", channel_id=channel)
    prompt = await wait_for(
        stack, lambda: next((m for m in stack.workspace.messages(channel) if "asked" in m.text), None)
    )
    await wait_for(stack, lambda: "6" in bot_thread_replies(stack, channel, prompt.ts))
    await stack.sender.message(user, channel, reply, thread_ts=prompt.ts)
    await wait_for(stack, lambda: answer in bot_thread_replies(stack, channel, prompt.ts))


def bot_thread_replies(stack: OfflineStack, channel: str, ts: str) -> list[str]:
    return [m.text for m in stack.workspace.thread(channel, ts) if m.is_bot and m.is_reply]


def test_fake_slack_sends_nothing_and_shows_no_history_outside_the_bots_channels() -> None:
    fake = FakeSlack()
    ws = fake.workspace
    ws.add_channel(RANDOM, "random", bot_is_member=False)
    ws.add_channel(SECRET, "secret", is_private=True, bot_is_member=False)
    with fake.serve():
        import httpx

        def call(method: str, **params: str) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {ws.bot_token}"}
            return httpx.post(fake.api_url + method, data=params, headers=headers).json()

        assert call("conversations.history", channel=RANDOM)["error"] == "not_in_channel"
        assert call("conversations.history", channel=SECRET)["error"] == "channel_not_found"
        # chat:write.public: posting in a public channel works without joining, not in a private one.
        assert call("chat.postMessage", channel=RANDOM, text="hi")["ok"] is True
        assert call("chat.postMessage", channel=SECRET, text="hi")["error"] == "not_in_channel"
        assert call("conversations.join", channel=RANDOM)["ok"] is True
        assert call("conversations.history", channel=RANDOM)["ok"] is True
        assert call("conversations.join", channel=SECRET)["ok"] is False


async def test_fake_slack_sends_no_message_event_from_a_channel_the_bot_is_not_in(
    stack: OfflineStack,
) -> None:
    assert stack.sender is not None
    stack.workspace.add_channel(RANDOM, "random", bot_is_member=False)
    assert await stack.sender.message(OWNER, RANDOM, "hello") is None
    assert await stack.sender.message(OWNER, "C0GENERAL", "hello") is not None


async def test_a_job_and_a_try_thread_in_a_public_channel_join_it_and_are_answered(
    stack: OfflineStack,
) -> None:
    assert stack.sender is not None
    stack.workspace.add_channel(RANDOM, "random", bot_is_member=False)
    job = await ready_model(stack, RANDOM)
    assert stack.workspace.channel(RANDOM).bot_is_member  # type: ignore[union-attr]
    assert stack.workspace.calls("conversations.join")
    # The notice went into the job's thread (recovery can read it now).
    assert any("is ready" in t for t in bot_thread_replies(stack, RANDOM, job.message_ts or ""))
    await try_and_reply(stack, OTHER, RANDOM, "seven", "eight")


async def test_a_private_channel_the_bot_is_not_in_gets_a_clear_refusal(stack: OfflineStack) -> None:
    await ready_model(stack)
    stack.workspace.add_channel(SECRET, "secret", is_private=True, bot_is_member=False)
    refusal = await shown_answer(stack, OWNER, "try numbers 5", SECRET)
    assert "not in this private channel" in refusal and "/invite @tunebot" in refusal
    started = await shown_answer(stack, OWNER, "start tutorial", SECRET)
    assert "/invite @tunebot" in started
    assert stack.workspace.messages(SECRET) == []


async def test_a_dm_between_people_is_refused_without_asking_to_invite(stack: OfflineStack) -> None:
    await ready_model(stack)
    stack.workspace.add_channel(PEOPLE_DM, OTHER, is_im=True, bot_is_member=False, im_user=OTHER)
    refusal = await shown_answer(stack, OWNER, "try numbers 5", PEOPLE_DM)
    assert "direct message between people" in refusal and "/invite" not in refusal
    assert stack.workspace.messages(PEOPLE_DM) == []


async def test_tune_in_a_dm_with_the_bot_works_end_to_end(stack: OfflineStack) -> None:
    assert stack.sender is not None
    stack.workspace.add_channel(OWNER_DM, OWNER, is_im=True, im_user=OWNER)
    job = await ready_model(stack, OWNER_DM)
    assert job.channel_id == OWNER_DM
    assert any("is ready" in t for t in bot_thread_replies(stack, OWNER_DM, job.message_ts or ""))
    await try_and_reply(stack, OWNER, OWNER_DM, "seven", "eight")


async def test_notice_recovery_joins_a_public_channel_it_could_only_post_in(stack: OfflineStack) -> None:
    """A job posted through chat:write.public before tunebot joined channels: after a crash
    between posting its notice and recording it, the thread is read after joining."""
    assert stack.sender is not None and stack.emulator is not None
    stack.workspace.add_channel(RANDOM, "random", bot_is_member=False)
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await stack.sender.slash_command(OWNER, "start tutorial", channel_id=RANDOM)
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    channel = stack.workspace.channel(RANDOM)
    assert channel is not None
    channel.bot_is_member = False  # as it was for jobs started before tunebot joined channels
    store.jobs.update(job.id or 0, notice_state="posting")  # crashed while posting the notice
    stack.emulator.advance(60)
    await stack.poll(all_due=True)
    notices = [t for t in bot_thread_replies(stack, RANDOM, job.message_ts or "") if "is ready" in t]
    assert len(notices) == 1 and channel.bot_is_member
