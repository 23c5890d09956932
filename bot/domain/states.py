"""The exactly-once state machines of a tuning job, and the one table of their moves.

Three columns of `tuning_job` record how far tunebot got with what it posts for a job
(see `bot/polling/poller.py` for why each step is written before or after Slack answers):

- `message_state`, the job's progress message: none -> posting -> posted.
- `notice_state`, the end-of-job notice and its loss chart: none -> posting -> posted -> done;
  `starting` while `/tune start` waits for the service's answer, `skipped` for a job that is
  cancelled while tuning (it gets no notice).
- `eval_state`, the base-vs-tuned evaluation: none -> evaluated (the report is stored) ->
  posting -> posted (the message) -> done (the CSV), or skipped (no held-out examples).

A `/tune eval` is stored like a job, in `eval_request.state` (bot/polling/eval_requests.py):
queued -> opening -> opened (the thread's first message) -> evaluated (the report is stored)
-> posting -> posted (the report) -> done (the CSV, and the first message says it is done), or
refused (Slack refused the thread's first message; the user was told).

The columns stay plain strings in the database; these enums are their values (a member is
a `str`, so it compares and stores as one). Every move is checked against `TRANSITIONS` by
`advance`, which refuses a move the table does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar


class MessageState(StrEnum):
    """`tuning_job.message_state`: the progress message, posted exactly once."""

    NONE = "none"
    POSTING = "posting"  # written before the post; after a crash, look for the message first
    POSTED = "posted"  # its ts is recorded


class NoticeState(StrEnum):
    """`tuning_job.notice_state`: the end-of-job notice (and the loss chart), posted exactly once."""

    STARTING = "starting"  # the create call may be on its way; no poller touches the job
    NONE = "none"
    POSTING = "posting"  # written before the post; after a crash, look for the notice first
    POSTED = "posted"  # the notice's ts is recorded; the chart and evaluation follow
    DONE = "done"
    SKIPPED = "skipped"  # cancelled while tuning: no notice


class EvalState(StrEnum):
    """`tuning_job.eval_state`: the evaluation of a succeeded job, run once and posted once."""

    NONE = "none"
    RUNNING = "running"  # never written; a row holding it is treated as `none`
    EVALUATED = "evaluated"  # the report is stored, so it never runs twice
    POSTING = "posting"  # written before the post; after a crash, look for the message first
    POSTED = "posted"  # the message's ts is recorded; the CSV follows
    DONE = "done"
    SKIPPED = "skipped"  # no held-out examples (or no evaluator)


class EvalRequestState(StrEnum):
    """`eval_request.state`: a `/tune eval`, run once, its thread, report and CSV posted once each."""

    QUEUED = "queued"  # stored by `/tune eval`; nothing posted yet
    OPENING = "opening"  # written before the thread's first message; after a crash, look for it first
    OPENED = "opened"  # the thread's ts is recorded; the evaluation runs
    EVALUATED = "evaluated"  # the report is stored, so it never runs twice
    POSTING = "posting"  # written before the report is posted; after a crash, look for it first
    POSTED = "posted"  # the report's ts is recorded; the CSV follows
    DONE = "done"  # the CSV is in the thread and its first message says the evaluation is done
    REFUSED = "refused"  # Slack refused the thread's first message (the user was told)


State = TypeVar("State", MessageState, NoticeState, EvalState, EvalRequestState)

_M, _N, _E, _R = MessageState, NoticeState, EvalState, EvalRequestState

# Every allowed move, by machine and current state. A state absent from its machine's map, or
# mapped to an empty set, has no way out. Staying in `posting` is a move: the retry of a
# post that failed, or the recovery after a crash, writes it again (renewing the lease).
TRANSITIONS: Mapping[type[StrEnum], Mapping[StrEnum, frozenset[StrEnum]]] = {
    MessageState: {
        _M.NONE: frozenset({_M.POSTING}),
        _M.POSTING: frozenset({_M.POSTING, _M.POSTED}),
        _M.POSTED: frozenset(),
    },
    NoticeState: {
        # `/tune start` (or the poller recovering an interrupted start) records the created job,
        # or gives up on it (lost, announced like any job); deleting its model cancels it.
        _N.STARTING: frozenset({_N.NONE, _N.SKIPPED}),
        _N.NONE: frozenset({_N.POSTING, _N.SKIPPED}),
        _N.POSTING: frozenset({_N.POSTING, _N.POSTED}),
        _N.POSTED: frozenset({_N.DONE}),
        _N.DONE: frozenset(),
        _N.SKIPPED: frozenset(),
    },
    EvalState: {
        _E.NONE: frozenset({_E.EVALUATED, _E.SKIPPED}),
        _E.RUNNING: frozenset({_E.EVALUATED, _E.SKIPPED}),
        # Back to `none` when the stored report went missing (it runs again); `skipped` when
        # the job's held-out examples are gone.
        _E.EVALUATED: frozenset({_E.POSTING, _E.NONE, _E.SKIPPED}),
        _E.POSTING: frozenset({_E.POSTING, _E.POSTED, _E.NONE, _E.SKIPPED}),
        _E.POSTED: frozenset({_E.DONE, _E.NONE, _E.SKIPPED}),
        _E.DONE: frozenset(),
        _E.SKIPPED: frozenset(),
    },
    EvalRequestState: {
        _R.QUEUED: frozenset({_R.OPENING}),
        # Staying in `opening` / `posting`: a retry, or the recovery after a crash, looks first.
        _R.OPENING: frozenset({_R.OPENING, _R.OPENED, _R.REFUSED}),
        _R.OPENED: frozenset({_R.EVALUATED}),
        _R.EVALUATED: frozenset({_R.POSTING}),
        _R.POSTING: frozenset({_R.POSTING, _R.POSTED}),
        _R.POSTED: frozenset({_R.DONE}),
        _R.DONE: frozenset(),
        _R.REFUSED: frozenset(),
    },
}

# The notice states in which the poller still has work on a finished job.
PENDING_NOTICE_STATES: frozenset[NoticeState] = frozenset({_N.NONE, _N.POSTING, _N.POSTED})
# The evaluation states in which there is nothing left to do.
SETTLED_EVAL_STATES: frozenset[EvalState] = frozenset({_E.DONE, _E.SKIPPED})
# Before the evaluation has run (and its report is stored).
UNEVALUATED_STATES: frozenset[EvalState] = frozenset({_E.NONE, _E.RUNNING})
# A `/tune eval` with nothing left to do.
SETTLED_EVAL_REQUEST_STATES: frozenset[EvalRequestState] = frozenset({_R.DONE, _R.REFUSED})


class IllegalTransition(ValueError):
    """A move the state table does not allow (or a stored value no state machine knows)."""


def allowed(current: str, to: State) -> bool:
    """Whether `TRANSITIONS` lets the machine of `to` move from `current` to `to`."""
    machine = type(to)
    try:
        now = machine(current)
    except ValueError:
        return False
    return to in TRANSITIONS[machine].get(now, frozenset())


def advance(current: str, to: State) -> State:
    """`to`, once the table allows the move from `current` (a member or its stored string);
    raises `IllegalTransition` otherwise."""
    if not allowed(current, to):
        raise IllegalTransition(f"{type(to).__name__}: {str(current)!r} -> {to.value!r} is not allowed")
    return to
