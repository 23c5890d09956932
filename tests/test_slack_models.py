"""`/tune list`, `/tune try` threads, `/tune delete` with ownership, and request signing."""

from __future__ import annotations

import time

import pytest

from bot.datasets.samples import tutorial_csv
from standins.fakeslack import Ephemeral, Forge
from standins.offline import OfflineStack
from tests.helpers.emulator import outside_models
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    buttons,
    command,
    eventually,
    store_of,
    upload_file,
    wait_for,
)


async def owned_model(stack: OfflineStack, user: str = OWNER) -> str:
    """A model `user` tuned through tunebot, tuned to the end."""
    assert stack.sender is not None and stack.emulator is not None
    await upload_file(stack, user, "tutorial.csv", tutorial_csv())
    await stack.sender.slash_command(user, 'start tutorial name="numbers"')
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    stack.emulator.advance(60)
    await stack.poll(all_due=True)
    assert job.model_name
    return job.model_name


async def test_list_pages_with_owners_and_next_previous(stack: OfflineStack) -> None:
    assert stack.sender is not None
    mine = await owned_model(stack)
    await outside_models(stack, 11)
    first = await command(stack, OWNER, "list")
    assert isinstance(first, Ephemeral)
    text = all_text(first)
    assert "page 1" in text and text.count("outside tunebot") + text.count(f"<@{OWNER}>") == 10
    labels = [b["text"]["text"] for b in buttons(first)]
    assert labels == ["Next"]
    next_button = buttons(first)[0]
    await stack.sender.block_action(
        OWNER,
        next_button["action_id"],
        next_button["value"],
        CHANNEL,
        message_ts=first.message_ts,
        is_ephemeral=True,
    )
    second = await wait_for(stack, lambda: first if len(first.versions) > 1 else None)
    text2 = all_text(second)
    assert "page 2" in text2 and "ready" in text2
    assert [b["text"]["text"] for b in buttons(second)] == ["Previous"]
    everything = text + text2
    assert f"`{mine}`" in everything and f"owner: <@{OWNER}>" in everything
    assert everything.count("outside tunebot") == 11
    back = buttons(second)[0]
    await stack.sender.block_action(
        OWNER, back["action_id"], back["value"], CHANNEL, message_ts=first.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: len(first.versions) > 2)
    assert "page 1" in all_text(first)


async def test_try_answers_in_a_thread_and_keeps_answering_replies(stack: OfflineStack) -> None:
    assert stack.sender is not None
    model = await owned_model(stack)
    model_id = model.removeprefix("tunedModels/")
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"try {model_id} 55")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    # The prompt leads with the model's display name; its id is in the small print.
    assert f"<@{OTHER}> asked *numbers*" in prompt.text and "55" in prompt.text
    assert f"`{model}`" in all_text(prompt)

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert answers() == ["56"]
    await stack.sender.message(OTHER, CHANNEL, "seven", thread_ts=prompt.ts)
    await wait_for(stack, lambda: len(answers()) == 2 and "thinking" not in answers()[-1])
    assert answers()[-1] == "eight"
    # The placeholder was edited in place into the answer.
    reply = [m for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply][-1]
    assert "is thinking" in reply.texts[0] and reply.texts[-1] == "eight"


async def test_model_text_that_could_ping_is_escaped(stack: OfflineStack) -> None:
    assert stack.sender is not None
    await upload_file(
        stack,
        OWNER,
        "pings.csv",
        b"text_input,output\n" + b"".join(b"q%d,<!channel> hi <@U0OTHER>\n" % n for n in range(12)),
    )
    await stack.sender.slash_command(OWNER, "start pings")
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    assert stack.emulator is not None and job.model_name
    stack.emulator.advance(60)
    await stack.poll(all_due=True)
    await stack.sender.slash_command(OWNER, f"try {job.model_name} q3 <!here>")
    prompt = await wait_for(stack, lambda: next((m for m in bot_posts(stack) if "asked" in m.text), None))

    def answer() -> str | None:
        replies = [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]
        return replies[-1] if replies and "thinking" not in replies[-1] else None

    shown = await wait_for(stack, answer)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown and "<@U0OTHER>" not in shown
    assert "<!here>" not in prompt.text and "&lt;!here&gt;" in prompt.text


async def test_try_on_a_model_still_tuning_is_answered_privately(stack: OfflineStack) -> None:
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await stack.sender.slash_command(OWNER, 'start tutorial name="next number v2"')
    store = store_of(stack)
    await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    posts = len(bot_posts(stack))
    answer = await command(stack, OWNER, 'try "next number v2" 1')
    assert "*next number v2* is still tuning: 0%" in str(answer)
    missing = await command(stack, OWNER, "try no-such-model-abc 1")
    assert "There is no tuned model `no-such-model-abc`" in str(getattr(missing, "text", missing))
    assert "404" not in str(getattr(missing, "text", missing))
    assert len(bot_posts(stack)) == posts  # nothing was posted in the channel


async def test_try_needs_a_model_and_a_prompt(stack: OfflineStack) -> None:
    assert "Which model?" in str(await command(stack, OWNER, "try"))
    assert "What should I ask" in str(await command(stack, OWNER, "try numbers-abc"))
    assert "There is no model called *Not_A_Model*" in str(
        await command(stack, OWNER, "try Not_A_Model hello")
    )


async def test_only_the_owner_or_an_admin_may_delete(stack: OfflineStack) -> None:
    assert stack.sender is not None and stack.emulator is not None
    model = await owned_model(stack)
    model_id = model.removeprefix("tunedModels/")
    refusal = await command(stack, OTHER, f"delete {model_id}")
    assert isinstance(refusal, Ephemeral)
    assert f"Only <@{OWNER}>" in refusal.text and buttons(refusal) == []

    prompt = await command(stack, OWNER, f"delete {model_id}")
    assert isinstance(prompt, Ephemeral)
    [delete] = buttons(prompt)
    assert delete["style"] == "danger" and delete["confirm"]["confirm"]["text"] == "Delete"
    # The confirm dialog lives in the Slack client: a forged click from someone else is refused.
    await stack.sender.block_action(
        OTHER, delete["action_id"], delete["value"], CHANNEL, message_ts=prompt.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: "Only <@U0OWNER>" in prompt.text)
    assert model_id in stack.emulator.emulator.model_ids()
    assert store_of(stack).ownership.get(model).deleted_at is None  # type: ignore[union-attr]

    await stack.sender.block_action(
        OWNER, delete["action_id"], delete["value"], CHANNEL, message_ts=prompt.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: "Deleted" in prompt.text)
    assert buttons(prompt) == []  # the prompt was replaced: no Delete button left to click
    assert model_id not in stack.emulator.emulator.model_ids()
    owner = store_of(stack).ownership.get(model)
    assert owner is not None and owner.deleted_by == OWNER
    # A second (stale) click is harmless.
    await stack.sender.block_action(
        OWNER, delete["action_id"], delete["value"], CHANNEL, message_ts=prompt.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: "already deleted" in prompt.text)


async def test_an_admin_may_delete_a_model_made_outside_tunebot(stack: OfflineStack) -> None:
    assert stack.sender is not None and stack.emulator is not None
    [model] = await outside_models(stack, 1)
    model_id = model.removeprefix("tunedModels/")
    refusal = await command(stack, OWNER, f"delete {model_id}")
    assert isinstance(refusal, Ephemeral) and "not created through tunebot" in refusal.text
    prompt = await command(stack, ADMIN, f"delete {model}")
    assert isinstance(prompt, Ephemeral)
    [delete] = buttons(prompt)
    await stack.sender.block_action(
        ADMIN, delete["action_id"], delete["value"], CHANNEL, message_ts=prompt.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: "Deleted" in prompt.text)
    assert model_id not in stack.emulator.emulator.model_ids()


async def test_deleting_an_unknown_model_says_so(stack: OfflineStack) -> None:
    answer = await command(stack, ADMIN, "delete no-such-model")
    assert "There is no tuned model `no-such-model`" in str(getattr(answer, "text", answer))


@pytest.mark.parametrize(
    "forge",
    [
        Forge(secret="not-the-signing-secret"),
        Forge(timestamp=int(time.time()) - 6 * 60),
        Forge(omit_signature=True),
    ],
    ids=["wrong-secret", "timestamp-6-minutes-old", "unsigned"],
)
async def test_forged_or_stale_requests_are_rejected_without_side_effects(
    stack: OfflineStack, forge: Forge
) -> None:
    assert stack.sender is not None
    sent = await stack.sender.slash_command(OWNER, "upload", forge=forge)
    assert sent.status_code == 401
    file = stack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)
    mention = await stack.sender.message(
        OWNER, CHANNEL, f"<@{stack.workspace.bot_user_id}> upload", files=[file], forge=forge
    )
    assert mention.status_code == 401
    time.sleep(0.3)
    assert stack.workspace.views(OWNER) == []
    assert stack.workspace.downloads == []
    assert store_of(stack).datasets.count() == 0


async def test_a_replayed_body_with_a_fresh_timestamp_does_not_verify(stack: OfflineStack) -> None:
    assert stack.sender is not None
    original = await stack.sender.slash_command(OWNER, "help")
    assert original.status_code == 200
    # Re-sending the captured body and signature later, with a new timestamp, fails the HMAC.
    replay = await stack.sender.send(
        original.body,
        "application/x-www-form-urlencoded",
        forge=Forge(timestamp=int(time.time()) + 1, signature=original.headers["X-Slack-Signature"]),
    )
    assert replay.status_code == 401
