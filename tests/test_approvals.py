"""Approvals in Slack (issue #22): a start over a limit becomes a request the approvers decide
once; approved, the job starts as the requester's in their channel. Decline with a reason,
withdrawal, expiry, forged and stale clicks, a click by someone else, Slack retries and Slack
failures while the request is posted, and the audit rows of the whole story."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.approvals import ApprovalStart, ApprovalState, button_value
from bot.domain.audit import TUNEBOT_ACTOR, AuditAction
from bot.services.approvals import NoApprovers, request_approval
from bot.services.jobs import start_job
from bot.slack.commands import parse_start
from bot.slack.reporter import PROGRESS_EVENT_TYPE
from bot.storage.models import utcnow
from standins.fakeslack import Ephemeral, Message
from standins.offline import OfflineStack
from tests.helpers.approvals import (
    APPROVER,
    RULE,
    SECOND_APPROVER,
    ask,
    button,
    dm_of,
    jobs_of,
    press,
    request_message,
    request_messages,
    requests_of,
    upload_tutorial,
)
from tests.helpers.cancelling import ask_cancel
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    buttons,
    ephemerals_for,
    eventually,
    next_ephemeral,
    running_stack,
    store_of,
    wait_for,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    approvers = {"TUNEBOT_APPROVERS": f"{APPROVER},{SECOND_APPROVER}", "TUNEBOT_APPROVAL_HOURS": "24"}
    with running_stack(tmp_path, settings=approvers) as running:
        running.workspace.add_user(APPROVER, "amara")
        running.workspace.add_user(SECOND_APPROVER, "sami")
        yield running


def job_messages(stack: OfflineStack, channel: str = CHANNEL) -> list[Message]:
    return [
        m
        for m in stack.workspace.messages(channel, include_replies=False)
        if (m.metadata or {}).get("event_type") == PROGRESS_EVENT_TYPE
    ]


def replies(stack: OfflineStack, message: Message) -> list[Message]:
    return [m for m in stack.workspace.thread(message.channel, message.ts) if m.ts != message.ts]


def current(stack: OfflineStack, message: Message) -> Message:
    found = stack.workspace.message(message.channel, message.ts)
    assert found is not None
    return found


async def refusal_for(stack: OfflineStack, user: str, seen: int) -> str:
    return (await next_ephemeral(stack, user, seen)).text


async def test_an_approved_request_starts_the_job_as_the_requesters_in_their_channel(
    stack: OfflineStack,
) -> None:
    await upload_tutorial(stack)
    ack = await ask(stack)
    assert "needs an approval" in ack and f"<@{APPROVER}>" in ack and "USD 12.50" in ack
    assert not jobs_of(stack)  # nothing went to Google
    asked = await request_message(stack, dm_of(APPROVER))
    shown = all_text(asked)
    for part in (
        f"<@{OWNER}> asks to start a tuning job",
        f"<#{CHANNEL}>",
        "tutorial",
        "40 examples",
        "epochs=3",
        "USD 12.50",
        "Spent this month so far:* USD 30.00",
        "over USD 10.00",
    ):
        assert part in shown, part
    assert [b["text"]["text"] for b in buttons(asked)] == ["Approve", "Decline"]
    assert len(request_messages(stack, dm_of(SECOND_APPROVER))) == 1
    mine = await request_message(stack, dm_of(OWNER))
    assert (
        f"<@{APPROVER}>, <@{SECOND_APPROVER}>" in all_text(mine)
        and buttons(mine)[0]["text"]["text"] == "Withdraw"
    )

    await press(stack, APPROVER, asked, "Approve")
    [job] = await eventually(lambda: jobs_of(stack))
    assert job.owner_user_id == OWNER and job.channel_id == CHANNEL and job.epoch_count == 3
    await wait_for(stack, lambda: job_messages(stack))
    [outcome] = await wait_for(stack, lambda: replies(stack, mine))
    assert outcome.text.startswith(f"Approved by <@{APPROVER}>; started job *tutorial*")
    await wait_for(stack, lambda: not buttons(current(stack, mine)))
    for message in (asked, *request_messages(stack, dm_of(SECOND_APPROVER))):
        edited = current(stack, message)
        assert not buttons(edited) and f"Approved by <@{APPROVER}>; started job" in all_text(edited)
    assert len(jobs_of(stack)) == 1 and len(job_messages(stack)) == 1
    # The approver saw at once that the job was starting, before it was named.
    shown = [version.text for version in current(stack, asked).versions]
    assert any(f"Approved by <@{APPROVER}>; starting the job in <#{CHANNEL}>" in text for text in shown)

    # The audit rows of the story: asked by the requester, approved (naming the job), started as theirs.
    entries = store_of(stack).audit.entries(stack.workspace.team_id)
    [request] = requests_of(stack)
    story = [(e.action, e.actor_user_id, e.subject) for e in entries]
    subject = f"request {request.id}"
    assert story == [
        (AuditAction.REQUEST, OWNER, subject),
        (AuditAction.APPROVE, APPROVER, subject),  # dated when decided, naming the job it started
        (AuditAction.START, OWNER, f"tutorial (job {job.id})"),  # the start's own line (start_job)
    ]
    asked_for, approved, _started = entries
    assert asked_for.amount == approved.amount == 12.5 and approved.currency == "USD"
    assert approved.details["job_id"] == job.id and approved.details["model_name"] == job.model_name
    assert approved.at == request.decided_at
    assert request.state == "approved" and request.decided_by == APPROVER


async def test_a_declined_request_tells_the_requester_why(stack: OfflineStack) -> None:
    assert stack.sender is not None
    await upload_tutorial(stack)
    await ask(stack)
    asked = await request_message(stack, dm_of(APPROVER))
    views_before = len(stack.workspace.views(APPROVER))
    await press(stack, APPROVER, asked, "Decline")
    form = await wait_for(
        stack,
        lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(APPROVER)),
    )
    reason = "Too dear this month <!channel> *now*"
    sent = await stack.sender.view_submission(APPROVER, form, {"reason": {"reason": reason}})
    assert sent.status_code == 200
    mine = await request_message(stack, dm_of(OWNER))
    [outcome] = await wait_for(stack, lambda: replies(stack, mine))
    assert f"Declined by <@{APPROVER}>: Too dear this month &lt;!channel&gt;" in outcome.text
    assert "<!channel>" not in outcome.text
    await wait_for(stack, lambda: not buttons(current(stack, asked)))
    assert "Declined by" in all_text(current(stack, asked))
    assert not jobs_of(stack)
    [*_, declined] = store_of(stack).audit.entries(stack.workspace.team_id)
    assert declined.action is AuditAction.DECLINE and declined.actor_user_id == APPROVER
    assert declined.details["reason"] == reason


async def test_the_requester_withdraws_and_a_later_approve_is_refused(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    await ask(stack)
    mine = await request_message(stack, dm_of(OWNER))
    asked = await request_message(stack, dm_of(APPROVER))
    shown_before = button(asked, "Approve")["value"]
    seen = len(ephemerals_for(stack, APPROVER))
    await press(stack, OWNER, mine, "Withdraw")
    [outcome] = await wait_for(stack, lambda: replies(stack, mine))
    assert "You withdrew this request" in outcome.text
    await wait_for(stack, lambda: "Withdrawn by" in all_text(current(stack, asked)))
    await press(stack, APPROVER, asked, "Approve", value=shown_before)  # on the message as it was
    assert "already decided" in await refusal_for(stack, APPROVER, seen)
    assert not jobs_of(stack)
    actions = [e.action for e in store_of(stack).audit.entries(stack.workspace.team_id)]
    assert actions == [AuditAction.REQUEST, AuditAction.WITHDRAW]


async def test_only_the_requester_can_withdraw(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    await ask(stack)
    mine = await request_message(stack, dm_of(OWNER))
    seen = len(ephemerals_for(stack, OTHER))
    await press(stack, OTHER, mine, "Withdraw")
    assert "Only the person who asked" in await refusal_for(stack, OTHER, seen)
    assert [r.state for r in requests_of(stack)] == ["pending"]


async def test_a_request_expires_after_the_hours_once(stack: OfflineStack) -> None:
    assert stack.runtime is not None
    await upload_tutorial(stack)
    await ask(stack)
    asked = await request_message(stack, dm_of(APPROVER))
    shown_before = button(asked, "Approve")["value"]
    mine = await request_message(stack, dm_of(OWNER))
    stack.runtime.poller.clock = lambda: utcnow() + timedelta(hours=23, minutes=59)
    await stack.poll()
    assert [r.state for r in requests_of(stack)] == ["pending"]
    stack.runtime.poller.clock = lambda: utcnow() + timedelta(hours=24, seconds=1)
    await stack.poll()
    assert [r.state for r in requests_of(stack)] == ["expired"]
    edits = len(current(stack, asked).versions)
    assert "Expired: no approver decided within 24 hours" in all_text(current(stack, asked))
    assert not buttons(current(stack, asked)) and not buttons(current(stack, mine))
    [outcome] = replies(stack, mine)
    assert "Expired" in outcome.text
    await stack.poll()  # told once
    assert len(current(stack, asked).versions) == edits and len(replies(stack, mine)) == 1
    seen = len(ephemerals_for(stack, APPROVER))
    await press(stack, APPROVER, asked, "Approve", value=shown_before)
    assert "already decided" in await refusal_for(stack, APPROVER, seen)
    assert not jobs_of(stack)
    [*_, expired] = store_of(stack).audit.entries(stack.workspace.team_id)
    assert expired.action is AuditAction.EXPIRE and expired.actor_user_id == TUNEBOT_ACTOR


async def test_a_click_after_the_hours_before_a_poll_cycle_is_refused_as_expired(stack: OfflineStack) -> None:
    assert stack.runtime is not None
    await upload_tutorial(stack)
    await ask(stack)
    asked = await request_message(stack, dm_of(APPROVER))
    stack.runtime.poller.clock = lambda: utcnow() + timedelta(hours=25)
    seen = len(ephemerals_for(stack, APPROVER))
    await press(stack, APPROVER, asked, "Approve")
    assert "has expired" in await refusal_for(stack, APPROVER, seen)
    assert [r.state for r in requests_of(stack)] == ["expired"] and not jobs_of(stack)
    await wait_for(stack, lambda: "Expired" in all_text(current(stack, asked)))


async def test_someone_who_is_not_an_approver_is_refused(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    await ask(stack)
    asked = await request_message(stack, dm_of(APPROVER))
    for user in (OTHER, OWNER):  # someone else, and the requester on a copy of the button
        seen = len(ephemerals_for(stack, user))
        await press(stack, user, asked, "Approve")
        assert "Only an approver" in await refusal_for(stack, user, seen)
    seen = len(ephemerals_for(stack, OTHER))
    await press(stack, OTHER, asked, "Decline")
    assert "Only an approver" in await refusal_for(stack, OTHER, seen)
    assert [r.state for r in requests_of(stack)] == ["pending"] and not jobs_of(stack)


async def test_forged_clicks_are_refused(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    await ask(stack)
    await ask(stack, estimate="20")
    first, second = requests_of(stack)
    assert first.id is not None and second.id is not None
    asked = await request_message(stack, dm_of(APPROVER), 0)
    forged = (
        button_value(second.id, first.nonce),  # names another request
        button_value(first.id, first.nonce[:-1] + ("0" if first.nonce[-1] != "0" else "1")),  # tampered
        "not-a-request",
        button_value(999, first.nonce),
    )
    for value in forged:
        seen = len(ephemerals_for(stack, APPROVER))
        await press(stack, APPROVER, asked, "Approve", value=value)
        assert "does not name a request of this workspace" in await refusal_for(stack, APPROVER, seen)
    # The right value from another workspace.
    team = stack.workspace.team_id
    stack.workspace.team_id = "T0ELSEWHERE"
    try:
        seen = len(ephemerals_for(stack, APPROVER))
        await press(stack, APPROVER, asked, "Approve")
        assert "does not name a request" in await refusal_for(stack, APPROVER, seen)
    finally:
        stack.workspace.team_id = team
    assert [r.state for r in requests_of(stack)] == ["pending", "pending"] and not jobs_of(stack)


async def test_the_same_approve_twice_starts_one_job(stack: OfflineStack) -> None:
    assert stack.sender is not None
    await upload_tutorial(stack)
    await ask(stack)
    asked = await request_message(stack, dm_of(APPROVER))
    other = await request_message(stack, dm_of(SECOND_APPROVER))
    # Both approvers at once, one of them twice; then Slack's retry of the first delivery.
    first, *_ = await asyncio.gather(
        press(stack, APPROVER, asked, "Approve"),
        press(stack, SECOND_APPROVER, other, "Approve"),
        press(stack, APPROVER, asked, "Approve"),
    )
    retry = await stack.sender.send(
        first.body, "application/x-www-form-urlencoded", extra_headers={"X-Slack-Retry-Num": "1"}
    )
    assert retry.status_code == 200
    await eventually(lambda: jobs_of(stack))
    await wait_for(stack, lambda: job_messages(stack))
    await eventually(lambda: requests_of(stack)[0].job_ids)
    assert len(jobs_of(stack)) == 1 and len(job_messages(stack)) == 1
    actions = [e.action for e in store_of(stack).audit.entries(stack.workspace.team_id)]
    assert actions.count(AuditAction.APPROVE) == 1 and actions.count(AuditAction.START) == 1


@pytest.mark.parametrize("fault", ["fail_after_storing", "drop_after_storing", "rate_limit"])
async def test_the_request_appears_once_when_slack_fails_while_it_is_posted(
    stack: OfflineStack, fault: str
) -> None:
    await upload_tutorial(stack)
    getattr(stack.workspace, fault)("chat.postMessage", times=3)  # each of the three posts
    await ask(stack)
    await stack.poll()  # anything left undone is done by the next cycle, once
    for user in (APPROVER, SECOND_APPROVER, OWNER):
        [message] = request_messages(stack, dm_of(user))
        rows = store_of(stack).approvals.messages(requests_of(stack)[0].id or 0)
        assert any(row.ts == message.ts and row.state == "posted" for row in rows)
    asked = request_messages(stack, dm_of(APPROVER))[0]
    await press(stack, APPROVER, asked, "Approve")
    await eventually(lambda: jobs_of(stack))
    await stack.poll()
    assert len(jobs_of(stack)) == 1
    for user in (APPROVER, SECOND_APPROVER, OWNER):
        assert len(request_messages(stack, dm_of(user))) == 1


async def test_a_request_slack_refused_is_posted_by_a_later_cycle(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    stack.workspace.fail("chat.postMessage", error="internal_error", status=200, times=3)
    await ask(stack)
    await stack.poll()
    await stack.poll()
    for user in (APPROVER, SECOND_APPROVER, OWNER):
        assert len(request_messages(stack, dm_of(user))) == 1, user
    assert button(request_messages(stack, dm_of(APPROVER))[0], "Approve")


async def test_approvers_named_by_a_channel_get_one_message_there(tmp_path: Path) -> None:
    room = "C0APPROVE"
    with running_stack(tmp_path, settings={"TUNEBOT_APPROVERS": room}) as stack:
        stack.workspace.add_channel(room, "approvals")
        stack.workspace.add_user(APPROVER, "amara")
        await upload_tutorial(stack)
        ack = await ask(stack)
        assert f"the approvers in <#{room}>" in ack
        asked = await request_message(stack, room)
        assert len(request_messages(stack, room)) == 1
        await press(stack, APPROVER, asked, "Approve")  # a member of the channel clicks there
        [job] = await eventually(lambda: jobs_of(stack))
        assert job.owner_user_id == OWNER and job.channel_id == CHANNEL


async def test_an_approval_whose_start_fails_says_why_and_starts_nothing(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    await ask(stack)
    dataset = store_of(stack).datasets.by_name(stack.workspace.team_id, "tutorial")
    assert dataset is not None and dataset.id is not None
    store_of(stack).datasets.delete(dataset.id)  # deleted while the request waited
    asked = await request_message(stack, dm_of(APPROVER))
    mine = await request_message(stack, dm_of(OWNER))
    await press(stack, APPROVER, asked, "Approve")
    [outcome] = await wait_for(stack, lambda: replies(stack, mine))
    assert outcome.text.startswith(f":warning: Approved by <@{APPROVER}>, but the job could not start:")
    assert not jobs_of(stack)
    [*_, approved] = store_of(stack).audit.entries(stack.workspace.team_id)
    assert approved.action is AuditAction.APPROVE and "job_id" not in approved.details
    assert approved.details["start_error"]


@pytest.mark.parametrize("started", [False, True])
async def test_an_approval_whose_process_died_before_the_start_was_recorded(
    stack: OfflineStack, started: bool
) -> None:
    """The approving process died after the decision: a later cycle adopts the job it started
    as the requester's, or says the start was interrupted. Never a second job."""
    assert stack.runtime is not None
    ctx = stack.runtime.ctx
    await upload_tutorial(stack)
    await ask(stack)
    [request] = requests_of(stack)
    mine = await request_message(stack, dm_of(OWNER))
    decided = store_of(stack).approvals.decide(
        request.id or 0, ApprovalState.APPROVED, actor=APPROVER, now=utcnow()
    )
    assert decided is not None
    if started:
        await stack.arun(
            start_job(
                ctx.store,
                ctx.backend,
                team_id=request.team_id,
                user_id=OWNER,
                channel_id=CHANNEL,
                args=parse_start("tutorial"),
            )
        )
    await stack.poll()
    assert requests_of(stack)[0].job_ids is None  # within the grace period: the start may be under way
    stack.runtime.poller.clock = lambda: utcnow() + timedelta(minutes=11)
    await stack.poll()
    [outcome] = await wait_for(stack, lambda: replies(stack, mine))
    [settled] = requests_of(stack)
    if started:
        [job] = jobs_of(stack)
        assert settled.job_ids == f"[{job.id}]" and "started job" in outcome.text
    else:
        assert settled.start_error == "interrupted" and "interrupted" in outcome.text
        assert not jobs_of(stack)
    await stack.poll()
    assert len(jobs_of(stack)) == int(started) and len(replies(stack, mine)) == 1
    actions = [e.action for e in store_of(stack).audit.entries(stack.workspace.team_id)]
    assert actions.count(AuditAction.APPROVE) == 1


async def test_several_starts_ask_once_for_their_total(stack: OfflineStack) -> None:
    await upload_tutorial(stack)
    ack = await ask(stack, jobs=2)
    assert "USD 25.00" in ack
    asked = await request_message(stack, dm_of(APPROVER))
    assert "asks to start 2 tuning jobs" in all_text(asked) and "Total (2 jobs):* USD 25.00" in all_text(
        asked
    )
    await press(stack, APPROVER, asked, "Approve")
    await eventually(lambda: requests_of(stack)[0].job_ids)
    jobs = jobs_of(stack)
    assert len(jobs) == 2 and {job.owner_user_id for job in jobs} == {OWNER}
    entries = store_of(stack).audit.entries(stack.workspace.team_id)
    [approved] = [e for e in entries if e.action is AuditAction.APPROVE]
    assert approved.amount == 25.0 and approved.details["job_ids"] == [job.id for job in jobs]
    starts = [e.subject for e in entries if e.action is AuditAction.START]
    assert starts == [f"tutorial (job {job.id})" for job in jobs]


async def test_a_decline_form_sent_after_another_approver_approved_is_refused_in_the_form(
    stack: OfflineStack,
) -> None:
    assert stack.sender is not None
    await upload_tutorial(stack)
    await ask(stack)
    asked = await request_message(stack, dm_of(APPROVER))
    other = await request_message(stack, dm_of(SECOND_APPROVER))
    views_before = len(stack.workspace.views(APPROVER))
    await press(stack, APPROVER, asked, "Decline")
    form = await wait_for(
        stack,
        lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(APPROVER)),
    )
    await press(stack, SECOND_APPROVER, other, "Approve")
    await eventually(lambda: requests_of(stack)[0].job_ids)
    sent = await stack.sender.view_submission(APPROVER, form, {"reason": {"reason": "no"}})
    body = sent.json()
    assert body["response_action"] == "errors" and "already decided" in body["errors"]["reason"]
    assert [r.state for r in requests_of(stack)] == ["approved"] and len(jobs_of(stack)) == 1


async def test_without_approvers_the_admins_are_asked(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:  # TUNEBOT_ADMINS is ADMIN, TUNEBOT_APPROVERS unset
        await upload_tutorial(stack)
        ack = await ask(stack)
        assert f"I asked <@{ADMIN}>" in ack
        asked = await request_message(stack, dm_of(ADMIN))
        await press(stack, ADMIN, asked, "Approve")
        [job] = await eventually(lambda: jobs_of(stack))
        assert job.owner_user_id == OWNER


async def test_without_approvers_or_admins_the_start_is_refused(stack: OfflineStack) -> None:
    assert stack.runtime is not None and stack.runtime.ctx.approvals is not None
    with pytest.raises(NoApprovers) as refused:
        await request_approval(
            store_of(stack),
            stack.runtime.ctx.approvals.poster,
            team_id=stack.workspace.team_id,
            requester_user_id=OWNER,
            channel_id=CHANNEL,
            starts=[ApprovalStart(parse_start("tutorial"), 1, "tutorial", "models/x")],
            currency="USD",
            month_spent=None,
            decision=RULE,
            approvers=(),
            admins=(),
        )
    assert "TUNEBOT_APPROVERS" in str(refused.value)
    assert not requests_of(stack)


async def test_the_approver_may_cancel_the_job_they_approved(tmp_path: Path) -> None:
    approvers = {"TUNEBOT_APPROVERS": f"{APPROVER},{SECOND_APPROVER}"}
    with running_stack(tmp_path, backend="vertex", settings=approvers) as stack:
        for user, name in ((APPROVER, "amara"), (SECOND_APPROVER, "sami")):
            stack.workspace.add_user(user, name)
        await upload_tutorial(stack)
        await ask(stack)
        await press(stack, APPROVER, await request_message(stack, dm_of(APPROVER)), "Approve")
        [job] = await eventually(lambda: [j for j in jobs_of(stack) if j.model_name and j.message_ts])
        asked = await ask_cancel(stack, APPROVER, job)
        assert isinstance(asked, Ephemeral) and "Cancel the tuning of *" in all_text(asked), asked
        refused = await ask_cancel(stack, SECOND_APPROVER, job)  # an approver, not of this job
        said = refused if isinstance(refused, str) else all_text(refused)
        assert "the approver of this job may cancel it" in said and "Cancel the tuning of *" not in said
