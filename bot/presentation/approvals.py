"""Approvals in Slack (issue #22): the request the approvers see (Approve, Decline), the
requester's DM (Withdraw), what each becomes once decided, the Decline form and the refusals
of a click. Pure functions of `ApprovalView` (bot/services/approvals.py); every user text
(dataset names, summaries, options, reasons, job names) is escaped."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.approvals import ApprovalStart, ApprovalState
from bot.domain.spend import StartRule
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.presentation.blocks import Block, context, plain, section, when
from bot.presentation.text import format_money
from bot.services.approval_decisions import START_INTERRUPTED, Refusal
from bot.services.approvals import ApprovalView, AskedApproval

ACTION_APPROVE = "tune_approval_approve"
ACTION_DECLINE = "tune_approval_decline"
ACTION_WITHDRAW = "tune_approval_withdraw"
DECLINE_CALLBACK = "tune_approval_decline_form"
REASON_BLOCK = "reason"
REASON_MAX = 500
# Slack message metadata naming a request's messages, so one is found, not posted twice.
REQUEST_EVENT_TYPE = "tunebot_approval_request"
OUTCOME_EVENT_TYPE = "tunebot_approval_outcome"


def _money(amount: float | None, currency: str) -> str:
    return (
        format_money(amount, currency) if amount is not None else "no estimate (no price for the base model)"
    )


def _approvers(approvers: list[str]) -> str:
    if len(approvers) == 1 and approvers[0][:1] in ("C", "G"):
        return f"the approvers in <#{esc(approvers[0])}>"
    return ", ".join(f"<@{esc(a)}>" for a in approvers) or "the approvers"


def rule_text(view: ApprovalView) -> str:
    """Why the start asks for an approval, in the words of the rule that asked."""
    limit = _money(view.rule_limit, view.currency) if view.rule_limit is not None else None
    spent = format_money(view.month_spent, view.currency) if view.month_spent is not None else None
    match view.rule:
        case StartRule.APPROVAL_ABOVE:
            return f"its estimate is over {limit}, the most a job may cost without an approval"
        case StartRule.USER_BUDGET:
            return f"it would take <@{esc(view.requester)}> past their monthly budget of {limit}"
        case StartRule.CHANNEL_BUDGET:
            return f"it would take <#{esc(view.channel_id)}> past its monthly budget of {limit}"
        case StartRule.NO_PRICE:
            return "spending limits are set and its cost cannot be estimated (no price for the base model)"
    return f"the rule `{esc(view.rule)}` asks for one" + (f" ({spent} spent)" if spent else "")


def _start_lines(start: ApprovalStart, currency: str) -> list[str]:
    options = ", ".join(f"{esc(k)}={esc(v)}" for k, v in sorted(start.hyperparameters.items()))
    estimate = float(start.estimate) if start.estimate is not None else None
    lines = [f"*Dataset:* {escape_truncated(start.dataset_name, 80)}"]
    if start.summary:
        lines.append(f"      {escape_truncated(start.summary, 300)}")
    lines += [
        f"*Base model:* {esc(start.base_model)}",
        f"*Hyperparameters:* {options or 'the defaults'}",
        f"*Estimate:* {_money(estimate, currency)}",
    ]
    return lines


def _details(view: ApprovalView) -> list[str]:
    lines: list[str] = []
    for start in view.starts:
        lines += _start_lines(start, view.currency)
    if len(view.starts) > 1:
        lines.append(f"*Total ({len(view.starts)} jobs):* {_money(view.amount, view.currency)}")
    if view.month_spent is not None:
        lines.append(f"*Spent this month so far:* {format_money(view.month_spent, view.currency)}")
    lines.append(f"*Why it asks:* {rule_text(view)}")
    return lines


def _jobs(view: ApprovalView) -> str:
    return ", ".join(f"*{esc(name)}*" for name in view.jobs) or "the job"


def outcome_text(view: ApprovalView) -> str:
    """What became of a request, one line (the approvers' message, the requester's thread)."""
    by = f"<@{esc(view.decided_by)}>" if view.decided_by else "an approver"
    where = f"<#{esc(view.channel_id)}>"
    match view.state:
        case ApprovalState.APPROVED if view.start_error == START_INTERRUPTED:
            return f":warning: Approved by {by}, but the start was interrupted; nothing started: ask again."
        case ApprovalState.APPROVED if view.start_error and view.jobs:
            return (
                f":warning: Approved by {by}; started job {_jobs(view)}, but not the rest: {view.start_error}"
            )
        case ApprovalState.APPROVED if view.start_error:
            return f":warning: Approved by {by}, but the job could not start: {view.start_error}"
        case ApprovalState.APPROVED if view.jobs:
            return f":white_check_mark: Approved by {by}; started job {_jobs(view)} in {where}."
        case ApprovalState.APPROVED:
            return f":white_check_mark: Approved by {by}; starting the job in {where}…"
        case ApprovalState.DECLINED:
            reason = f": {escape_truncated(view.reason, REASON_MAX)}" if view.reason else "."
            return f":no_entry: Declined by {by}{reason}"
        case ApprovalState.WITHDRAWN:
            return f":leftwards_arrow_with_hook: Withdrawn by <@{esc(view.requester)}>."
        case ApprovalState.EXPIRED:
            return f":hourglass: Expired: no approver decided within {view.hours:g} hours."
    return f":hourglass_flowing_sand: Waiting for {_approvers(view.approvers)} until {when(view.expires_at)}."


def approver_message(view: ApprovalView) -> tuple[str, list[Block]]:
    """The request as the approvers see it: with Approve and Decline while it is pending."""
    head = (
        f":raised_hand: <@{esc(view.requester)}> asks to start "
        f"{'a tuning job' if len(view.starts) == 1 else f'{len(view.starts)} tuning jobs'} "
        f"in <#{esc(view.channel_id)}> (request {view.request_id})."
    )
    blocks: list[Block] = [section(head), section("\n".join(_details(view)))]
    if view.state == ApprovalState.PENDING:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"approval_{view.request_id}",
                "elements": [
                    _button("Approve", ACTION_APPROVE, view.value, "primary"),
                    _button("Decline", ACTION_DECLINE, view.value, "danger"),
                ],
            }
        )
    blocks.append(context(outcome_text(view)))
    return f"{head} {outcome_text(view)}", blocks


def requester_message(view: ApprovalView) -> tuple[str, list[Block]]:
    """The requester's DM: the start awaits approval, by whom, with Withdraw while pending."""
    what = ", ".join(f"*{escape_truncated(s.dataset_name, 80)}*" for s in view.starts)
    head = (
        f":hourglass_flowing_sand: Your tuning job on {what} in <#{esc(view.channel_id)}> "
        f"({_money(view.amount, view.currency)}) needs an approval: {rule_text(view)}. "
        f"I asked {_approvers(view.approvers)}; the request expires {when(view.expires_at)}."
    )
    blocks: list[Block] = [section(head)]
    if view.state == ApprovalState.PENDING:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"approval_{view.request_id}",
                "elements": [_button("Withdraw", ACTION_WITHDRAW, view.value, None)],
            }
        )
    blocks.append(context(outcome_text(view)))
    return f"{head} {outcome_text(view)}", blocks


def requester_outcome_text(view: ApprovalView) -> str:
    """The reply in the requester's DM thread once the request is decided."""
    if view.state == ApprovalState.APPROVED and view.jobs and not view.start_error:
        return (
            f"Approved by <@{esc(view.decided_by or '')}>; started job {_jobs(view)} in "
            f"<#{esc(view.channel_id)}>: its progress is there."
        )
    if view.state == ApprovalState.WITHDRAWN:
        return "You withdrew this request; nothing was started."
    return outcome_text(view)


def approval_asked_text(asked: AskedApproval, view: ApprovalView) -> str:
    """The answer to a start that became a request (the ack of `/tune start`)."""
    return (
        f":raised_hand: This start needs an approval: {rule_text(view)}. "
        f"I asked {_approvers(asked.approvers)} (request {view.request_id}, estimate "
        f"{_money(view.amount, view.currency)}); I'll tell you in a DM, where you can also withdraw it."
    )


def _button(label: str, action_id: str, value: str, style: str | None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": plain(label), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def decline_modal(value: str, clicked_in: str, view: ApprovalView) -> dict[str, Any]:
    """The Decline form: the reason the requester will read."""
    who = f"<@{esc(view.requester)}>"
    return {
        "type": "modal",
        "callback_id": DECLINE_CALLBACK,
        "private_metadata": json.dumps({"value": value, "channel": clicked_in}),
        "title": plain("Decline the request"),
        "submit": plain("Decline"),
        "close": plain("Back"),
        "blocks": [
            section(f"Decline {who}'s request {view.request_id} ({_money(view.amount, view.currency)})?"),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": plain("Reason (the requester reads it)"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_BLOCK,
                    "multiline": True,
                    "max_length": REASON_MAX,
                },
            },
        ],
    }


def refusal_text(refusal: Refusal, view: ApprovalView | None) -> str:
    """A click that cannot be honoured, said privately to whoever clicked."""
    match refusal:
        case Refusal.FORGED:
            return ":no_entry: That button does not name a request of this workspace; nothing was done."
        case Refusal.NOT_APPROVER:
            return ":no_entry: Only an approver can approve or decline this request."
        case Refusal.NOT_REQUESTER:
            return ":no_entry: Only the person who asked can withdraw this request."
        case Refusal.EXPIRED:
            return ":hourglass: This request has expired; nothing was started. The requester can ask again."
    outcome = outcome_text(view) if view is not None else "It was already decided."
    return f"This request was already decided: {outcome}"
