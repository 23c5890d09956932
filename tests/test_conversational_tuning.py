"""Conversational tuning on Vertex, end to end on the offline stack (issue #20, items 5 and
11): a dataset of conversations with a system instruction is tuned with every turn and the
instruction; its try, checkpoint and compare threads send the dataset's system instruction
(`system="…"` replaces it) with every earlier turn, and say in their first message which
instruction they send; the held-out evaluation scores the last model turn of each held-out
conversation given the turns before it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.datasets.core import shape_of
from bot.domain.types import TrainingExample
from bot.evaluation.judge import CASE_HEADING, JUDGE_INSTRUCTIONS
from bot.evaluation.report import EvalReport
from bot.presentation.blocks import system_line
from bot.services.conversation import SystemChoice, system_choice
from bot.storage.models import TuningJob
from standins.fakeslack import Message
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    buttons,
    eventually,
    running_stack,
    store_of,
    wait_for,
)

SYSTEM = "You are Tally, a terse counting bot."
# Each conversation: "count from n" -> n+1, then "and next?" -> n+2 (only the earlier turns
# say which n: the emulated model must read them to answer the follow-up).
CONVERSATIONS = [
    TrainingExample("and next?", str(n + 2), history=(f"count from {n}", str(n + 1)), system=SYSTEM)
    for n in range(1, 25)
]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def add_dataset(
    stack: OfflineStack, name: str = "tally", examples: list[TrainingExample] = CONVERSATIONS
) -> None:
    """The dataset as an upload of a Vertex or OpenAI file would store it."""
    store_of(stack).datasets.add(
        team_id=stack.workspace.team_id,
        owner_user_id=OWNER,
        channel_id=CHANNEL,
        name=name,
        file_name=f"{name}.jsonl",
        format="jsonl",
        sha256=name.ljust(64, "0"),
        examples=examples,
        shape=shape_of(examples),
    )


async def start_job(stack: OfflineStack, options: str = "epochs=2") -> TuningJob:
    assert stack.sender is not None
    add_dataset(stack)
    await stack.sender.slash_command(OWNER, f"start tally {options}")
    return await eventually(
        lambda: next(
            (
                j
                for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)
                if j.message_ts and j.lease_owner is None  # started, and the start let go of it
            ),
            None,
        )
    )


async def tuned(stack: OfflineStack) -> str:
    """A finished two-epoch job on the conversations; its number for `/tune try`."""
    assert stack.emulator is not None
    job = await start_job(stack)
    stack.emulator.emulator.finish_all()
    await stack.poll(all_due=True)
    return (job.model_name or "").rsplit("/", 1)[1]


def requests(stack: OfflineStack) -> list[dict[str, Any]]:
    """The answers asked of the tuned and the base models (not the evaluation's judge)."""
    assert stack.emulator is not None
    return [b for b in stack.emulator.emulator.vertex.generate_requests if system_of(b) != JUDGE_INSTRUCTIONS]


def judge_cases(stack: OfflineStack) -> list[dict[str, Any]]:
    """What the evaluation's judge was shown (the case of each judging prompt)."""
    assert stack.emulator is not None
    bodies = [
        b for b in stack.emulator.emulator.vertex.generate_requests if system_of(b) == JUDGE_INSTRUCTIONS
    ]
    return [json.loads(turns(b)[-1][1].split(CASE_HEADING, 1)[1]) for b in bodies]


def turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["role"], "".join(p["text"] for p in c["parts"])) for c in body["contents"]]


def system_of(body: dict[str, Any]) -> str | None:
    system = body.get("systemInstruction")
    return "".join(p["text"] for p in system["parts"]) if system else None


def answers(stack: OfflineStack, prompt: Message) -> list[str]:
    return [all_text(m) for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]


async def open_thread(stack: OfflineStack, command: str) -> Message:
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


async def reply(stack: OfflineStack, prompt: Message, text: str) -> str:
    assert stack.sender is not None
    count = len(answers(stack, prompt))
    await stack.sender.message(OTHER, CHANNEL, text, thread_ts=prompt.ts)
    await wait_for(
        stack,
        lambda: len(answers(stack, prompt)) == count + 1 and "thinking" not in answers(stack, prompt)[-1],
    )
    return answers(stack, prompt)[-1]


async def test_the_job_sends_vertex_every_turn_and_the_system_instruction(stack: OfflineStack) -> None:
    assert stack.emulator is not None
    job = await start_job(stack)
    [emulated] = stack.emulator.emulator.vertex.state.jobs.values()
    bucket, _, name = emulated.dataset_uri.removeprefix("gs://").partition("/")
    sent = stack.emulator.emulator.vertex.object(bucket, name)
    assert sent is not None
    lines = [json.loads(line) for line in sent.decode().splitlines()]
    assert len(lines) == len(CONVERSATIONS)
    assert lines[4] == {
        "systemInstruction": {"role": "system", "parts": [{"text": SYSTEM}]},
        "contents": [
            {"role": "user", "parts": [{"text": "count from 5"}]},
            {"role": "model", "parts": [{"text": "6"}]},
            {"role": "user", "parts": [{"text": "and next?"}]},
            {"role": "model", "parts": [{"text": "7"}]},
        ],
    }
    stack.emulator.emulator.finish_all()
    for _ in range(3):  # (the start may still hold the job's lease for the first cycle)
        await stack.poll(all_due=True)
    done = store_of(stack).jobs.get(job.id or 0)
    assert done is not None and done.state == "succeeded", done and done.error_message


async def test_a_try_thread_sends_the_datasets_system_instruction_and_every_earlier_turn(
    stack: OfflineStack,
) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f"try {number} count from 5")
    # the first message says which system instruction every turn carries, and where it is from
    assert f'System instruction (from dataset *tally*; `system="…"` replaces it):_ “{SYSTEM}”' in prompt.text
    assert answers(stack, prompt)[-1] == "6"
    assert await reply(stack, prompt, "and next?") == "7"  # read from the earlier turns
    await reply(stack, prompt, "and next?")
    third = requests(stack)[-1]
    assert turns(third) == [
        ("user", "count from 5"),
        ("model", "6"),
        ("user", "and next?"),
        ("model", "7"),
        ("user", "and next?"),
    ]
    assert system_of(third) == SYSTEM
    assert {system_of(body) for body in requests(stack)[-3:]} == {SYSTEM}


async def test_the_follow_up_answer_depends_on_the_earlier_turns(stack: OfflineStack) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f"try {number} count from 12")
    assert await reply(stack, prompt, "and next?") == "14"


async def test_system_option_replaces_the_datasets_instruction(stack: OfflineStack) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f'try {number} system="Answer in words." count from 5')
    assert "System instruction (set with `system=`):_ “Answer in words.”" in prompt.text
    assert SYSTEM not in prompt.text
    await reply(stack, prompt, "and next?")
    await reply(stack, prompt, "and next?")
    assert [system_of(body) for body in requests(stack)[-3:]] == ["Answer in words."] * 3
    assert len(turns(requests(stack)[-1])) == 5


async def test_a_checkpoint_thread_sends_the_datasets_system_instruction(stack: OfflineStack) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f"try {number} checkpoint=1 count from 5")
    assert "(checkpoint 1)" in prompt.text and "from dataset *tally*" in prompt.text
    await reply(stack, prompt, "and next?")
    await reply(stack, prompt, "and next?")
    third = requests(stack)[-1]
    assert [role for role, _ in turns(third)] == ["user", "model", "user", "model", "user"]
    assert turns(third)[0] == ("user", "count from 5") and system_of(third) == SYSTEM


async def test_a_compare_thread_sends_both_models_the_datasets_system_instruction(
    stack: OfflineStack,
) -> None:
    number = await tuned(stack)
    prompt = await open_thread(stack, f"compare {number} count from 5")
    assert "System instruction for both models (from dataset *tally*" in prompt.text
    await reply(stack, prompt, "and next?")
    await reply(stack, prompt, "and next?")
    last_two = requests(stack)[-2:]
    assert {system_of(body) for body in last_two} == {SYSTEM}
    for body in last_two:  # each model with its own earlier answers
        users = [text for role, text in turns(body) if role == "user"]
        assert users == ["count from 5", "and next?", "and next?"] and len(turns(body)) == 5
    # the base model got it too (the emulated base model says what it was told)
    assert 'As instructed: "You are Tally' in answers(stack, prompt)[-1]


async def test_a_model_tunebot_did_not_start_has_no_system_instruction(stack: OfflineStack) -> None:
    await tuned(stack)
    store = store_of(stack)
    outside = "projects/p/locations/us-central1/tuningJobs/4000000000000009990"
    assert await store.run(system_choice, store, outside, None) == SystemChoice(None, "none")
    assert await store.run(system_choice, store, outside, "Be kind.") == SystemChoice("Be kind.", "option")


async def test_the_held_out_evaluation_scores_the_last_model_turn_given_the_earlier_ones(
    stack: OfflineStack,
) -> None:
    assert stack.emulator is not None
    # held-out conversations worded a little differently: the model answers each follow-up
    # from the nearest conversation it learnt, found by the earlier turns alone
    held_out = [
        TrainingExample(
            "and next?", str(n + 2), history=(f"Count from {n}, please", str(n + 1)), system=SYSTEM
        )
        for n in range(11, 16)
    ]
    add_dataset(stack, "held", held_out)
    job = await start_job(stack, "epochs=2 validation=held")
    stack.emulator.emulator.finish_all()
    for _ in range(3):
        await stack.poll(all_due=True)
    store = store_of(stack)
    report = EvalReport.from_json(store.evaluations.report(job.id or 0) or "")
    held = store.evaluations.held_out_examples(job.id or 0)
    assert held and all(example.multi_turn for example in held)
    assert [(r.text_input, r.expected) for r in report.rows] == [("and next?", e.output) for e in held]
    assert report.tuned_exact_rate == 1.0  # the follow-up answered from the earlier turns
    assert report.base_exact_rate == 0.0
    bodies = requests(stack)  # the tuned model's and the base model's, each with the earlier turns
    assert len(bodies) == 2 * len(held) and {system_of(b) for b in bodies} == {SYSTEM}
    expected = {(e.history[0], e.history[1], "and next?") for e in held}
    assert {tuple(text for _, text in turns(b)) for b in bodies} == expected
    # The judge sees the conversation too: its system instruction and earlier turns, both orders.
    cases = judge_cases(stack)
    assert len(cases) == 2 * len(held) and {c["system_instruction"] for c in cases} == {SYSTEM}
    assert {(*[t["text"] for t in c["earlier_turns"]], c["prompt"]) for c in cases} == expected


async def test_tune_eval_on_a_conversational_dataset_sends_the_earlier_turns(stack: OfflineStack) -> None:
    assert stack.sender is not None
    number = await tuned(stack)
    held_out = [
        TrainingExample(
            "and next?", str(n + 2), history=(f"Count from {n}, please", str(n + 1)), system=SYSTEM
        )
        for n in range(3, 6)
    ]
    add_dataset(stack, "held", held_out)
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"eval {number} held")
    parent = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    result = await wait_for(
        stack, lambda: next((m for m in stack.workspace.thread(CHANNEL, parent.ts) if m.blocks), None)
    )
    assert "on 3 examples of the dataset" in all_text(result) and "base 0% → tuned 100%" in all_text(result)
    bodies = requests(stack)[-6:]
    assert {system_of(b) for b in bodies} == {SYSTEM}
    assert {tuple(text for _, text in turns(b)) for b in bodies} == {
        (f"Count from {n}, please", str(n + 1), "and next?") for n in range(3, 6)
    }
    await wait_for(stack, lambda: "evaluated" in parent.text)


async def test_the_try_it_button_opens_a_thread_that_names_the_system_instruction(
    stack: OfflineStack,
) -> None:
    """The "Try it" button of the ready notice (in the job message's thread) opens a thread
    waiting for a prompt; its first message names the dataset's system instruction."""
    assert stack.sender is not None
    await tuned(stack)

    def notice() -> Message | None:
        return next((m for m in stack.workspace.messages(CHANNEL) if m.is_bot and buttons(m)), None)

    ready = await wait_for(stack, notice)
    [try_it] = [b for b in buttons(ready) if b["text"]["text"] == "Try it"]
    before = len(bot_posts(stack))
    await stack.sender.block_action(OTHER, try_it["action_id"], try_it["value"], CHANNEL, message_ts=ready.ts)
    opened = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    assert "is trying" in opened.text and "from dataset *tally*" in opened.text and SYSTEM in opened.text
    # (the bot remembers the thread once Slack has answered its post)
    await eventually(lambda: store_of(stack).threads.model_for(CHANNEL, opened.ts))
    await stack.sender.message(OTHER, CHANNEL, "count from 9", thread_ts=opened.ts)
    await wait_for(stack, lambda: answers(stack, opened) and "thinking" not in answers(stack, opened)[-1])
    assert answers(stack, opened)[-1] == "10" and system_of(requests(stack)[-1]) == SYSTEM


def test_the_first_message_quotes_a_long_system_instruction_on_one_shortened_line() -> None:
    line = system_line(
        SystemChoice("Answer *briefly*.\n\n" + "Always be kind. " * 40, "dataset", "<!here> set")
    )
    assert line.count("\n") == 1 and line.endswith("…”")
    assert "“Answer \u200b*briefly*\u200b. Always be kind. Always" in line  # markup neutralised, one line
    assert "&lt;!here&gt; set" in line and len(line) < 300
    assert system_line(SystemChoice(None, "none")) == ""
