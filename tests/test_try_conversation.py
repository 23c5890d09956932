"""Try, checkpoint and compare threads are conversations (issue #20): each reply goes to the
model with the thread's earlier turns in order, the thread's system instruction (`system="…"`
on `/tune try`), the smallest thinking budget of the base model, within a token budget that
leaves the oldest turns out first (and the reply says so)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from standins.fakeslack import Message
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    eventually,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)

NUMBERS = ("text_input,output\n" + "".join(f"{n},{n + 1}\n" for n in range(1, 41))).encode()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def tuned(stack: OfflineStack) -> str:
    """A finished two-epoch job on the numbers (answers n+1); its number for `/tune try`."""
    assert stack.emulator is not None and stack.sender is not None
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    await stack.sender.slash_command(OWNER, "start numbers epochs=2")
    job = await eventually(
        lambda: next(
            (j for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) if j.message_ts),
            None,
        )
    )
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    return (job.model_name or "").rsplit("/", 1)[1]


def requests(stack: OfflineStack) -> list[dict[str, Any]]:
    assert stack.emulator is not None
    return stack.emulator.emulator.vertex.generate_requests


def turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["role"], "".join(p["text"] for p in c["parts"])) for c in body["contents"]]


async def open_thread(stack: OfflineStack, command: str) -> Message:
    """`/tune <command>` by OTHER; the thread's opening message once the first answer is in."""
    assert stack.sender is not None
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, command)
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    await wait_for(
        stack, lambda: len(answers(stack, prompt)) == 1 and "thinking" not in answers(stack, prompt)[-1]
    )
    return prompt


def answers(stack: OfflineStack, prompt: Message) -> list[str]:
    return [all_text(m) for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]


async def reply(stack: OfflineStack, prompt: Message, text: str) -> str:
    assert stack.sender is not None
    count = len(answers(stack, prompt))
    await stack.sender.message(OTHER, CHANNEL, text, thread_ts=prompt.ts)
    await wait_for(
        stack,
        lambda: len(answers(stack, prompt)) == count + 1 and "thinking" not in answers(stack, prompt)[-1],
    )
    return answers(stack, prompt)[-1]


async def test_a_try_thread_sends_the_earlier_turns_and_its_system_instruction(stack: OfflineStack) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f'try {number} system="Answer with digits only." 5')
    assert await reply(stack, prompt, "7") == "8"
    assert await reply(stack, prompt, "9") == "10"
    third = requests(stack)[-1]
    assert turns(third) == [("user", "5"), ("model", "6"), ("user", "7"), ("model", "8"), ("user", "9")]
    assert third["systemInstruction"] == {"parts": [{"text": "Answer with digits only."}]}
    # Google's advice for tuned models: the smallest thinking budget (0 on 2.5 Flash)
    assert third["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}
    assert "left out" not in answers(stack, prompt)[-1]


async def test_a_checkpoint_thread_is_a_conversation_too(stack: OfflineStack) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f"try {number} checkpoint=1 system='Be brief.' 5")
    await reply(stack, prompt, "7")
    await reply(stack, prompt, "9")
    third = requests(stack)[-1]
    assert turns(third) == [("user", "5"), ("model", "6"), ("user", "7"), ("model", "8"), ("user", "9")]
    assert third["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


async def test_a_compare_thread_sends_each_model_its_own_conversation(stack: OfflineStack) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f"compare {number} 5")
    await reply(stack, prompt, "7")
    await reply(stack, prompt, "9")
    tuned_body, base_body = sorted(requests(stack)[-2:], key=lambda b: "generationConfig" not in b)
    assert [t for t in turns(tuned_body) if t[0] == "user"] == [("user", "5"), ("user", "7"), ("user", "9")]
    assert turns(tuned_body)[1] == ("model", "6") and turns(tuned_body)[3] == ("model", "8")
    base_turns = turns(base_body)
    assert [t for t in base_turns if t[0] == "user"] == [("user", "5"), ("user", "7"), ("user", "9")]
    assert len(base_turns) == 5 and base_turns[1][1] != "6"  # the base model's own answers


async def test_the_budget_leaves_the_oldest_turns_out_and_the_reply_says_so(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex", settings={"TUNEBOT_TRY_CONTEXT_TOKENS": "4"}) as stack:
        number = await tuned(stack)
        prompt = await open_thread(stack, f"try {number} 5")
        assert await reply(stack, prompt, "7") == "8"  # 5 and 6 fit
        third = await reply(stack, prompt, "9")
        # 1 token each: "9" and the newest turns that fit (8, 7; 6 alone would start with the model)
        assert turns(requests(stack)[-1]) == [("user", "7"), ("model", "8"), ("user", "9")]
        assert third.startswith("10") and "(earlier turns left out: 2)" in third, third
