"""The exactly-once state machines (bot/domain/states.py): the values stored today, the one
table of moves, every move the poller makes is in it, and an illegal move is refused."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

import pytest

import bot.polling.poller
from bot.domain.states import (
    PENDING_NOTICE_STATES,
    SETTLED_EVAL_STATES,
    TRANSITIONS,
    EvalRequestState,
    EvalState,
    IllegalTransition,
    MessageState,
    NoticeState,
    advance,
    allowed,
)
from standins.offline import OfflineStack
from tests.helpers.evaluation import finished_job
from tests.helpers.slack import store_of

M, N, E, R = MessageState, NoticeState, EvalState, EvalRequestState

# Every move tunebot makes, and where (the poller unless said otherwise).
MOVES: list[tuple[StrEnum, StrEnum]] = [
    # The progress message (`_show_progress`): written before the post, again on a retry.
    (M.NONE, M.POSTING),
    (M.POSTING, M.POSTING),
    (M.POSTING, M.POSTED),  # posted, or found in the channel after a crash
    # The notice (`_announce`).
    (N.NONE, N.POSTING),
    (N.POSTING, N.POSTING),
    (N.POSTING, N.POSTED),
    (N.POSTED, N.DONE),
    # A start that died: recorded (`record_started`, or `_recover_unstarted`) or lost.
    (N.STARTING, N.NONE),
    # Deleting the model of a job while it tunes (`OwnershipRepository`).
    (N.NONE, N.SKIPPED),
    (N.STARTING, N.SKIPPED),
    # The evaluation (`_evaluation`).
    (E.NONE, E.EVALUATED),
    (E.RUNNING, E.EVALUATED),
    (E.EVALUATED, E.POSTING),
    (E.POSTING, E.POSTING),
    (E.POSTING, E.POSTED),
    (E.POSTED, E.DONE),
    # No held-out examples (none when evaluated, or gone since).
    (E.NONE, E.SKIPPED),
    (E.RUNNING, E.SKIPPED),
    (E.EVALUATED, E.SKIPPED),
    (E.POSTING, E.SKIPPED),
    (E.POSTED, E.SKIPPED),
    # The stored report went missing: run it again.
    (E.EVALUATED, E.NONE),
    (E.POSTING, E.NONE),
    (E.POSTED, E.NONE),
    # A `/tune eval` (bot/polling/eval_requests.py): its thread, the evaluation, the report, the CSV.
    (R.QUEUED, R.OPENING),
    (R.OPENING, R.OPENING),
    (R.OPENING, R.OPENED),  # posted, or found in the channel after a crash
    (R.OPENING, R.REFUSED),  # Slack refused the thread's first message outright
    (R.OPENED, R.EVALUATED),
    (R.EVALUATED, R.POSTING),
    (R.POSTING, R.POSTING),
    (R.POSTING, R.POSTED),
    (R.POSTED, R.DONE),
]


def test_the_stored_values_are_todays_strings() -> None:
    assert [s.value for s in MessageState] == ["none", "posting", "posted"]
    assert {s.value for s in NoticeState} == {"starting", "none", "posting", "posted", "done", "skipped"}
    assert {s.value for s in EvalState} == {
        "none", "running", "evaluated", "posting", "posted", "done", "skipped",
    }  # fmt: skip
    assert {s.value for s in EvalRequestState} == {
        "queued", "opening", "opened", "evaluated", "posting", "posted", "done", "refused",
    }  # fmt: skip
    assert NoticeState.POSTING == "posting" and "done" in SETTLED_EVAL_STATES
    assert set(PENDING_NOTICE_STATES) == {"none", "posting", "posted"}


def test_the_table_covers_every_state_and_stays_within_each_machine() -> None:
    assert set(TRANSITIONS) == {MessageState, NoticeState, EvalState, EvalRequestState}
    for machine, moves in TRANSITIONS.items():
        assert set(moves) == set(machine)  # every state is listed, if only to say it is final
        for targets in moves.values():
            assert all(type(target) is machine for target in targets)


def test_every_move_tunebot_makes_is_in_the_table() -> None:
    for current, to in MOVES:
        assert advance(current, to) is to
        assert advance(current.value, to) is to  # as read back from the database
    listed = {(type(to), current, to) for current, to in MOVES}
    in_table = {
        (m, current, to) for m, moves in TRANSITIONS.items() for current, ts in moves.items() for to in ts
    }
    assert in_table == listed  # and the table allows nothing else


@pytest.mark.parametrize(
    ("current", "to"),
    [
        (N.POSTED, N.POSTING),  # a notice once recorded is never posted again
        (N.DONE, N.POSTING),
        (N.NONE, N.DONE),  # done without posting
        (N.SKIPPED, N.POSTING),
        (M.POSTED, M.POSTING),
        (M.NONE, M.POSTED),
        (E.DONE, E.NONE),
        (E.NONE, E.POSTING),  # posting a report never stored
        (E.SKIPPED, E.EVALUATED),
        (R.QUEUED, R.POSTING),  # a report posted before its thread
        (R.OPENED, R.POSTING),  # posting a report never stored
        (R.POSTED, R.POSTING),
        (R.DONE, R.QUEUED),
        (R.REFUSED, R.OPENING),
    ],
)
def test_an_illegal_move_is_refused(
    current: StrEnum, to: MessageState | NoticeState | EvalState | EvalRequestState
) -> None:
    assert not allowed(current, to)
    with pytest.raises(IllegalTransition, match=f"{current.value!r} -> {to.value!r}"):
        advance(current, to)


def test_a_value_no_machine_knows_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        advance("publishing", NoticeState.POSTED)
    with pytest.raises(IllegalTransition):
        advance("starting", MessageState.POSTING)  # a notice state, not a message state


def test_the_polling_layer_names_no_state_by_its_string() -> None:
    # ("running" is also a job state, which the polling layer may name.)
    bare = re.compile(r"""["'](none|starting|evaluated|posting|posted|done|skipped)["']""")
    for path in Path(bot.polling.poller.__file__).parent.glob("*.py"):
        assert not bare.findall(path.read_text()), path


async def test_a_job_life_makes_only_moves_in_the_table(
    fast_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[tuple[str, StrEnum]] = []
    checked = bot.polling.poller.advance

    def recording(current: str, to: MessageState | NoticeState | EvalState) -> StrEnum:
        made.append((str(current), to))
        return checked(current, to)

    monkeypatch.setattr(bot.polling.poller, "advance", recording)
    stack = fast_stack
    job = await finished_job(stack, "tutorial validation=20%")
    for _ in range(3):
        await stack.poll(all_due=True)
    row = store_of(stack).jobs.get(job.id or 0)
    assert row is not None and (row.message_state, row.notice_state, row.eval_state) == (
        "posted",
        "done",
        "done",
    )
    assert {(type(to), current, to.value) for current, to in made} == {
        (MessageState, "none", "posting"),
        (MessageState, "posting", "posted"),
        (NoticeState, "none", "posting"),
        (NoticeState, "posting", "posted"),
        (NoticeState, "posted", "done"),
        (EvalState, "none", "evaluated"),
        (EvalState, "evaluated", "posting"),
        (EvalState, "posting", "posted"),
        (EvalState, "posted", "done"),
    }
