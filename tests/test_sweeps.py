"""`/tune sweep`: every combination of a grid as a job on Vertex AI, all holding out the same
examples, through the fake Slack against the emulator's Vertex AI surface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.datasets.samples import tutorial_csv
from bot.domain.approvals import starts_from_json
from bot.storage.models import TuningJob
from bot.storage.repositories.datasets import decode_examples
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.approvals import APPROVER, dm_of, press, request_message, requests_of
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    ack_body,
    all_text,
    command,
    ephemerals_for,
    eventually,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
)

SWEEP = "sweep tutorial epochs=2,4 learning_rate_multiplier=0.5,1 validation=20%"


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def sweep(stack: OfflineStack, text: str = SWEEP) -> tuple[str, list[TuningJob]]:
    """`/tune sweep …` by OWNER: what OWNER is told once the variants started, and the variants."""
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    sent = await stack.sender.slash_command(OWNER, text)
    assert "Starting a sweep" in ack_body(sent).get("text", ""), ack_body(sent)
    told = all_text(await next_ephemeral(stack, OWNER, seen))
    return told, await started_variants(stack)


async def started_variants(stack: OfflineStack, count: int = 1) -> list[TuningJob]:
    """The sweeps' variants (at least `count`), once each has its job message and is no
    longer being started; by id."""
    store = store_of(stack)
    jobs = await eventually(
        lambda: (
            lambda js: (
                js if len(js) >= count and all(j.message_ts and j.lease_owner is None for j in js) else None
            )
        )([j for j in store.jobs.team_models(stack.workspace.team_id) if j.sweep_id is not None])
    )
    return sorted(jobs, key=lambda j: j.id or 0)


def sent_grid(bodies: list[dict[str, Any]]) -> list[tuple[int, float]]:
    """The epochs and learning-rate multiplier each create request sent to Vertex AI, sorted."""
    return sorted(
        (
            int(body["supervisedTuningSpec"]["hyperParameters"]["epochCount"]),
            float(body["supervisedTuningSpec"]["hyperParameters"]["learningRateMultiplier"]),
        )
        for body in bodies
    )


async def test_a_sweep_starts_every_combination_on_the_same_held_out_examples(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())

    told, jobs = await sweep(stack)

    assert "Sweep 1: 4 variants started" in told and "/tune sweep cancel 1" in told
    assert len(jobs) == 4 and {j.sweep_id for j in jobs} == {1}
    assert sent_grid(vertex.create_requests[-4:]) == [(2, 0.5), (2, 1.0), (4, 0.5), (4, 1.0)]
    store = store_of(stack)
    held = []
    for job in jobs:
        holdout = store.evaluations.holdout(job.id or 0)
        assert holdout is not None and holdout.example_count > 0
        held.append(decode_examples(holdout.examples_gz))
    assert all(h == held[0] for h in held)
    names = sorted(j.display_name for j in jobs)
    assert names == ["tutorial e2 lr×0.5", "tutorial e2 lr×1", "tutorial e4 lr×0.5", "tutorial e4 lr×1"]
    sweep_row = store.sweeps.get(1)
    assert sweep_row is not None and sweep_row.rank_by == "win_rate"


async def test_sweep_refusals_are_clear_and_start_nothing(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    creates = len(vertex.create_requests)

    async def answer(text: str) -> str:
        said = await command(stack, OWNER, text)
        return all_text(said) if isinstance(said, Ephemeral) else said

    bad = await answer("sweep tutorial epochs=2,x adapter_size=3 validation=10% rank_by=speed")
    assert "`epochs` must be a whole number, not `x`" in bad
    assert "`adapter_size` must be one of" in bad and "`rank_by` must be one of" in bad
    no_holdout = await answer("sweep tutorial epochs=2,4")
    assert "add `validation=10%`" in no_holdout
    one = await answer("sweep tutorial epochs=2 validation=10%")
    assert "at least two variants" in one
    too_many = await answer("sweep tutorial epochs=1,2,3 learning_rate_multiplier=0.5,1,2 validation=10%")
    assert "9 combinations; at most 8" in too_many
    refused = await answer("sweep tutorial epochs=2,4 base_model=gemini-2.5-flash,nosuch validation=10%")
    assert "`nosuch` cannot be tuned here" in refused
    assert len(vertex.create_requests) == creates
    assert store_of(stack).jobs.team_models(stack.workspace.team_id) == []


async def test_sweeps_need_vertex(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        said = await command(stack, OWNER, SWEEP)
        text = all_text(said) if isinstance(said, Ephemeral) else said
        assert "Sweeps run on Vertex AI" in text and "gemini" in text


async def test_sweep_max_is_a_setting(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex", settings={"TUNEBOT_SWEEP_MAX": "3"}) as stack:
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        said = await command(stack, OWNER, SWEEP)
        text = all_text(said) if isinstance(said, Ephemeral) else said
        assert "4 combinations; at most 3" in text


def sweep_messages(stack: OfflineStack, event_type: str = "tunebot_sweep") -> list[Any]:
    return [
        m
        for m in stack.workspace.messages(CHANNEL, include_deleted=True)
        if (m.metadata or {}).get("event_type") == event_type
    ]


async def settle(stack: OfflineStack, rounds: int = 6) -> None:
    """Finish every emulated job and let the poll cycles evaluate them and refresh the board."""
    assert stack.emulator is not None
    for _ in range(rounds):
        stack.emulator.emulator.finish_all()
        await stack.poll(all_due=True)


async def test_a_sweep_has_one_leaderboard_edited_in_place_one_notice_and_a_winner(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    _, jobs = await sweep(stack)
    await stack.poll(all_due=True)
    [board] = sweep_messages(stack)
    assert "Sweep 1" in board.text and "e2 lr×0.5" in board.text and "ranked by win rate" in board.text
    assert "/tune sweep cancel 1" in board.text

    await settle(stack)

    [board] = sweep_messages(stack)
    assert board.versions and len(board.versions) >= 2  # edited in place, never posted twice
    store = store_of(stack)
    done = [store.jobs.get(j.id or 0) for j in jobs]
    assert all(j is not None and j.state == "succeeded" for j in done)
    assert "Ended." in board.text and "win rate" in board.text and "exact" in board.text
    assert board.text.count(":trophy:") == 1
    [notice] = sweep_messages(stack, "tunebot_sweep_notice")
    assert notice.thread_ts == board.ts and "Sweep 1 has ended. Best by" in notice.text
    sweep_row = store.sweeps.get(1)
    assert sweep_row is not None
    winner = next(line for line in board.text.splitlines() if ":trophy:" in line)
    assert winner.split("*")[1] in notice.text
    await settle(stack, rounds=2)  # later cycles change nothing
    assert len(sweep_messages(stack, "tunebot_sweep_notice")) == 1 and len(sweep_messages(stack)) == 1


async def test_a_failed_variant_is_shown_and_the_sweep_still_ends(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    stack.emulator.emulator.update_faults({"fail_models": ["tutorial e4 lr×1"]})
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await sweep(stack)
    await settle(stack)
    states = sorted((j.display_name, j.state) for j in store_of(stack).sweeps.variants(1))
    assert ("tutorial e4 lr×1", "failed") in states
    assert sum(state == "succeeded" for _, state in states) == 3
    [board] = sweep_messages(stack)
    failed_line = next(line for line in board.text.splitlines() if "*e4 lr×1*" in line)
    assert "Failed" in failed_line or "failed" in failed_line.lower()
    assert ":trophy:" not in failed_line and board.text.count(":trophy:") == 1
    assert len(sweep_messages(stack, "tunebot_sweep_notice")) == 1


async def test_sweep_cancel_stops_its_running_variants(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    _, jobs = await sweep(stack)

    async def answer(user: str, text: str) -> str:
        said = await command(stack, user, text)
        return all_text(said) if isinstance(said, Ephemeral) else said

    assert "Only the person who started sweep 1" in await answer(OTHER, "sweep cancel 1")
    assert "no such sweep" in await answer(OWNER, "sweep cancel 99")
    assert "Which sweep?" in await answer(OWNER, "sweep cancel last")
    done = await answer(OWNER, "sweep cancel 1")
    assert "Sweep 1: cancelled" in done and all(j.display_name in done for j in jobs)
    store = store_of(stack)
    assert {v.state for v in store.sweeps.variants(1)} == {"cancelled"}
    assert {v.cancelled_by for v in store.sweeps.variants(1)} == {OWNER}
    assert "no variant still running" in await answer(ADMIN, "sweep cancel 1")
    await settle(stack, rounds=2)
    [board] = sweep_messages(stack)
    assert "Ended" in board.text and board.text.count("cancelled") >= 4
    [notice] = sweep_messages(stack, "tunebot_sweep_notice")
    assert "no variant has a score" in notice.text


async def test_a_sweep_over_the_approval_limit_is_one_request_for_its_total(tmp_path: Path) -> None:
    """Each variant alone is under the limit; the sweep's total is over it: one request, and once
    approved every variant starts as the requester's, on the sweep's held-out split."""
    settings = {
        "TUNEBOT_APPROVERS": APPROVER,
        "TUNEBOT_APPROVAL_ABOVE": "2",
        "TUNEBOT_TRAINING_PRICES": "gemini-2.5-flash=10000",
    }
    with running_stack(tmp_path, backend="vertex", settings=settings) as stack:
        stack.workspace.add_user(APPROVER, "amara")
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        assert stack.sender is not None
        sent = await stack.sender.slash_command(OWNER, SWEEP)
        assert "needs an approval" in ack_body(sent).get("text", ""), ack_body(sent)
        store = store_of(stack)
        [asked] = requests_of(stack)
        assert len(starts_from_json(asked.starts)) == 4 and asked.amount is not None
        assert {s.sweep_id for s in starts_from_json(asked.starts)} == {1}
        assert all(s.estimate is not None and s.estimate < 2 for s in starts_from_json(asked.starts))
        assert asked.amount > 2
        assert store.jobs.team_models(stack.workspace.team_id) == []
        await press(stack, APPROVER, await request_message(stack, dm_of(APPROVER)), "Approve")
        jobs = await eventually(
            lambda: (lambda js: js if len(js) == 4 and all(j.model_name for j in js) else None)(
                [j for j in store.jobs.team_models(stack.workspace.team_id) if j.sweep_id == 1]
            )
        )
        assert {j.owner_user_id for j in jobs} == {OWNER}
        holdouts = [store.evaluations.holdout(j.id or 0) for j in jobs]
        held = [decode_examples(h.examples_gz) for h in holdouts if h is not None]
        assert len(held) == 4 and all(h == held[0] for h in held)


@pytest.mark.parametrize("fault", ["fail_after_storing", "drop_after_storing"])
async def test_the_board_and_notice_are_posted_once_when_slack_loses_its_answers(
    vertex_stack: OfflineStack, fault: str
) -> None:
    """Slack stores each post but its answer is lost: the board and the notice are found by
    their metadata, never posted twice."""
    stack = vertex_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await sweep(stack)
    lose = getattr(stack.workspace, fault)
    lose("chat.postMessage", 2)
    await stack.poll(all_due=True)
    await stack.poll(all_due=True)
    assert len(sweep_messages(stack)) == 1
    posts = [c for c in stack.workspace.calls("chat.postMessage") if "tunebot_sweep" in str(c.params)]
    stored = [c for c in posts if c.status != 429]  # a 429 stores nothing (and takes the fault)
    assert len(stored) == 1  # the lost answer was found by its metadata, not posted again
    if fault == "fail_after_storing":
        assert stored[0].status == 500
    assert stack.emulator is not None
    stack.emulator.emulator.finish_all()
    for _ in range(8):
        lose("chat.postMessage", 2)
        await stack.poll(all_due=True)
    await settle(stack, rounds=3)
    assert len(sweep_messages(stack)) == 1
    assert len(sweep_messages(stack, "tunebot_sweep_notice")) == 1
    notice_posts = [
        c
        for c in stack.workspace.calls("chat.postMessage")
        if "tunebot_sweep_notice" in str(c.params) and c.status != 429
    ]
    assert len(notice_posts) == 1
    sweep_row = store_of(stack).sweeps.get(1)
    assert sweep_row is not None and sweep_row.notice_state == "posted"
    [board] = sweep_messages(stack)
    assert sweep_row.message_ts == board.ts and "Ended." in board.text


async def test_help_names_the_sweep(vertex_stack: OfflineStack) -> None:
    said = await command(vertex_stack, OWNER, "help")
    text = all_text(said) if isinstance(said, Ephemeral) else said
    assert "/tune sweep <dataset> epochs=2,4" in text
