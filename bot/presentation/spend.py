"""What Slack shows of the spend policy and the bill (issue #22): `/tune policy`, its changes
and mistakes, a start refused or waiting for approval, `/tune spend` and its CSV, the budget
notice, and the Home tab's sections and policy form."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from decimal import Decimal

from bot.domain.policy import (
    AMOUNT_SYNTAX,
    APPROVERS_SYNTAX,
    OVER_BUDGET_SYNTAX,
    SETTING_OF,
    STARTERS_SYNTAX,
    PolicyKey,
    approvers_of,
    policy_values,
)
from bot.domain.spend import OverBudget, SpendPolicy, Starters, StartRule
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.evaluation.report import spreadsheet_safe
from bot.presentation.blocks import Block, context, section, when
from bot.presentation.text import format_money
from bot.services.spend import (
    Bill,
    NoticeDue,
    PolicyChange,
    SpendCheck,
    SpendLine,
    TeamPolicy,
)

LINES_SHOWN = 25  # people or channels listed in a message; the CSV has them all
SECTION_TEXT_MAX = 3000  # Slack's limit for a section's text

KEY_LABELS: dict[PolicyKey, str] = {
    PolicyKey.STARTERS: "Who may start jobs",
    PolicyKey.APPROVAL_ABOVE: "One job needs approval above",
    PolicyKey.BUDGET_PER_USER: "Monthly budget per person",
    PolicyKey.BUDGET_PER_CHANNEL: "Monthly budget per channel",
    PolicyKey.OVER_BUDGET: "A start over a budget",
    PolicyKey.APPROVERS: "Approvers",
}
KEY_SYNTAX: dict[PolicyKey, str] = {  # plain text (a form's hints); escaped in messages
    PolicyKey.STARTERS: STARTERS_SYNTAX,
    PolicyKey.APPROVAL_ABOVE: AMOUNT_SYNTAX,
    PolicyKey.BUDGET_PER_USER: AMOUNT_SYNTAX,
    PolicyKey.BUDGET_PER_CHANNEL: AMOUNT_SYNTAX,
    PolicyKey.OVER_BUDGET: OVER_BUDGET_SYNTAX,
    PolicyKey.APPROVERS: APPROVERS_SYNTAX,
}
POLICY_SET_USAGE = "`/tune policy set <key> <value>`, e.g. `/tune policy set budget_per_user 100`"


def money(amount: Decimal, currency: str) -> str:
    """`USD 1,234.50` (an amount of the policy's currency)."""
    return format_money(amount, currency)


def _limit(amount: Decimal | None, currency: str) -> str:
    return "no limit" if amount is None else money(amount, currency)


def _people(ids: Sequence[str] | frozenset[str]) -> str:
    return ", ".join(f"<@{user}>" for user in sorted(ids))


def starters_text(policy: SpendPolicy) -> str:
    match policy.starters:
        case Starters.USERS:
            return _people(policy.allowed)
        case Starters.GROUPS:
            return "members of the user groups " + ", ".join(f"`{g}`" for g in sorted(policy.allowed))
        case Starters.CHANNELS:
            return "anyone, from " + ", ".join(f"<#{c}>" for c in sorted(policy.allowed)) + " only"
    return "everyone"


def approvers_text(policy: SpendPolicy) -> str:
    approvers = approvers_of(policy)
    if approvers.channel:
        return f"the members of <#{approvers.channel}>"
    if approvers.users:
        return _people(approvers.users)
    return "none set, so the tunebot admins approve"


def policy_lines(policy: SpendPolicy) -> list[str]:
    currency = policy.currency
    over = "refused" if policy.over_budget is OverBudget.REFUSE else "sent to an approver"
    per_channel = _limit(policy.monthly_budget_per_channel, currency)
    return [
        f"• {KEY_LABELS[PolicyKey.STARTERS]}: {starters_text(policy)}",
        f"• {KEY_LABELS[PolicyKey.APPROVAL_ABOVE]}: {_limit(policy.approval_above, currency)}",
        f"• {KEY_LABELS[PolicyKey.BUDGET_PER_USER]}: {_limit(policy.monthly_budget_per_user, currency)}",
        f"• {KEY_LABELS[PolicyKey.BUDGET_PER_CHANNEL]}: {per_channel}",
        f"• {KEY_LABELS[PolicyKey.OVER_BUDGET]}: {over}",
        f"• {KEY_LABELS[PolicyKey.APPROVERS]}: {approvers_text(policy)}",
    ]


def _origin(team: TeamPolicy) -> str:
    if team.stored and team.updated_by:
        at = f" on {when(team.updated_at)}" if team.updated_at is not None else ""
        return f"set in Slack by <@{team.updated_by}>{at}"
    return "from the settings"


def policy_text(team: TeamPolicy, *, admin: bool, zone: str) -> str:
    """`/tune policy`: the policy in force, to anyone; how to change it, to admins."""
    lines = [f"*Spending policy* ({_origin(team)})", *policy_lines(team.policy)]
    lines.append(f"_Amounts in {esc(team.policy.currency)}; months run in {esc(zone)}._")
    if admin:
        values = policy_values(team.policy)
        keys = ", ".join(f"`{key.value}` (now `{esc(values[key])}`)" for key in PolicyKey)
        lines.append(f"Change it with {POLICY_SET_USAGE}. Keys: {keys}.")
    return "\n".join(lines)


def policy_changed_text(changes: Sequence[PolicyChange]) -> str:
    """After `/tune policy set`, `reset` or the form: what changed, before → after."""
    if not changes:
        return "The policy already comes from the settings; nothing changed."
    lines = []
    for change in changes:
        label = KEY_LABELS[change.key]
        if change.changed:
            lines.append(f":white_check_mark: {label}: `{esc(change.before)}` → `{esc(change.after)}`")
        else:
            lines.append(f"{label} is already `{esc(change.after)}`; nothing changed.")
    if any(change.changed for change in changes):
        lines.append("_Recorded in the audit log._")
    return "\n".join(lines)


def not_admin_text(admins: frozenset[str]) -> str:
    """Someone who is not an admin asked to change the policy."""
    if not admins:
        return "Only tunebot admins can change the spending policy, and none are set (`TUNEBOT_ADMINS`)."
    return f"Only tunebot admins ({_people(admins)}) can change the spending policy. `/tune policy` shows it."


def policy_usage_text(typed: str | None = None) -> str:
    """`/tune policy <something else>`, or `set` without a key and value."""
    keys = ", ".join(f"`{key.value}`" for key in PolicyKey)
    head = f"I don't know `/tune policy {escape_truncated(typed, 60)}`. " if typed else ""
    return f"{head}Usage: `/tune policy` to see it, {POLICY_SET_USAGE} to change it. Keys: {keys}."


def unknown_key_text(typed: str, guess: str | None) -> str:
    hint = f" Did you mean `{guess}`?" if guess else ""
    keys = ", ".join(f"`{key.value}`" for key in PolicyKey)
    return f"There is no policy key `{escape_truncated(typed, 60)}`.{hint} Keys: {keys}."


def bad_value_text(key: PolicyKey, typed: str, problem: str) -> str:
    """A value `/tune policy set` (or the form) cannot read."""
    return (
        f"`{key.value}` cannot be `{escape_truncated(typed, 80)}`: {esc(problem)}. "
        f"It takes {esc(KEY_SYNTAX[key])} (the setting {SETTING_OF[key]} takes the same)."
    )


# ------------------------------------------------------------------ a start


def refusal_text(spend: SpendCheck) -> str:
    """A start the policy refuses: the rule, the limit and the month's spend."""
    decision, check, policy = spend.decision, spend.check, spend.policy
    currency = policy.currency
    if decision.rule is StartRule.STARTERS:
        if policy.starters is Starters.CHANNELS:
            where = ", ".join(f"<#{c}>" for c in sorted(policy.allowed))
            who = f"Tuning jobs may only be started from {where}"
        else:
            who = f"Only {starters_text(policy)} may start tuning jobs"
        return (
            f":no_entry: {who} (the spending policy). Nothing was started; a tunebot admin can "
            "change who may start (`/tune policy`)."
        )
    spent = decision.spent or Decimal(0)
    limit = decision.limit or Decimal(0)
    estimate = check.estimate or Decimal(0)
    whose = (
        "your monthly budget is"
        if decision.rule is StartRule.USER_BUDGET
        else "this channel's monthly budget is"
    )
    who_spent = "you have spent" if decision.rule is StartRule.USER_BUDGET else "its jobs have spent"
    return (
        f":no_entry: Not started: {whose} {money(limit, currency)} and {who_spent} "
        f"{money(spent, currency)} this month ({spend.month.label}); this job is estimated at "
        f"{money(estimate, currency)}, which would make {money(spent + estimate, currency)}. "
        "A smaller job (fewer epochs or examples) may fit; an admin can change the budget (`/tune policy`)."
    )


def groups_unknown_text() -> str:
    """Only members of user groups may start, and Slack did not say in time who they are."""
    return (
        ":hourglass: Only members of certain user groups may start tuning jobs, and Slack did not "
        "tell me in time whether you are one. Nothing was started; try again in a moment."
    )


# ------------------------------------------------------------------ the bill


def _line(line: SpendLine, currency: str, who: str) -> str:
    counted = (
        f"counted {money(line.counted, currency)} ({line.counted_jobs} of {line.jobs} jobs)"
        if line.counted_jobs
        else "nothing counted yet"
    )
    jobs = f"{line.jobs} job{'s' if line.jobs != 1 else ''}"
    return (
        f"• {who} — *{money(line.total, currency)}* · estimated {money(line.estimated, currency)} · "
        f"{counted} · {jobs}"
    )


def _where(channel_id: str) -> str:
    """A channel as the bill names it (a DM with tunebot has no channel name to show)."""
    return f"a DM with tunebot (`{esc(channel_id)}`)" if channel_id[:1] == "D" else f"<#{channel_id}>"


def _who(user_id: str) -> str:
    return f"<@{user_id}>"


def _lines(lines: Sequence[SpendLine], currency: str, mention: Callable[[str], str], shown: int) -> list[str]:
    out = [_line(line, currency, mention(line.subject_id)) for line in lines[:shown]]
    if len(lines) > shown:
        out.append(f"_…and {len(lines) - shown} more (in the CSV)._")
    return out


def _running_lines(bill: Bill, shown: int) -> list[str]:
    out = []
    for item in bill.running[:shown]:
        job = item.job
        so_far = f"≈ {money(item.so_far, bill.currency)} so far" if item.so_far is not None else "no price"
        of = f" of ≈ {money(item.estimated, bill.currency)}" if item.estimated is not None else ""
        out.append(
            f"• *{esc(job.display_name)}* by <@{job.owner_user_id}> — {so_far}{of} "
            f"({job.percent:.0f}% trained) · :hourglass_flowing_sand: still billing"
        )
    if len(bill.running) > shown:
        out.append(f"_…and {len(bill.running) - shown} more._")
    return out


def _pending_lines(bill: Bill, shown: int) -> list[str]:
    out = []
    for request in bill.pending[:shown]:
        estimate = money(request.estimate, bill.currency) if request.estimate is not None else "no estimate"
        out.append(f"• <@{request.requester_user_id}>: {esc(request.what)} — {estimate}")
    return out


def _listed(title: str, lines: Sequence[str]) -> Block:
    """A section of lines, as many as fit in one section (the CSV has them all)."""
    text = title
    for index, line in enumerate(lines):
        more = f"\n_…and {len(lines) - index} more (in the CSV)._"
        if len(text) + 1 + len(line) + len(more) > SECTION_TEXT_MAX:
            return section(text + more)
        text += "\n" + line
    return section(text)


def _scope(bill: Bill) -> str:
    if bill.everyone:
        return "everyone"
    if bill.channels_unknown:
        return "you (I could not read which channels you are in)"
    return "you and the channels you are in"


def bill_blocks(bill: Bill, *, zone: str) -> tuple[str, list[Block]]:
    """`/tune spend [YYYY-MM]`: the month by person and by channel, estimated and counted
    side by side; the jobs still billing; the requests waiting for approval."""
    currency = bill.currency
    total = bill.total
    head = (
        f"*Spend in {bill.month.label}* — {_scope(bill)}: *{money(total.total, currency)}* "
        f"(estimated {money(total.estimated, currency)}, counted {money(total.counted, currency)})"
    )
    blocks: list[Block] = [section(head)]
    people = _lines(bill.people, currency, _who, LINES_SHOWN)
    blocks.append(_listed("*By person*", people or ["No jobs this month."]))
    channels = _lines(bill.channels, currency, _where, LINES_SHOWN)
    blocks.append(_listed("*By channel*", channels or ["No jobs this month."]))
    running = _running_lines(bill, LINES_SHOWN)
    blocks.append(_listed("*Still billing*", running or ["No job is running."]))
    pending = _pending_lines(bill, LINES_SHOWN)
    if pending:
        blocks.append(_listed("*Waiting for approval*", pending))
    notes = [
        f"Months run in {esc(zone)}; a job counts in the month it started, at its counted cost once "
        "the service reports it, else its estimate.",
    ]
    if bill.unpriced:
        notes.append(
            f"{bill.unpriced} job{'s' if bill.unpriced != 1 else ''} without a price are not in the sums."
        )
    notes.append(f"`/tune spend {bill.month.label} csv` sends the jobs as a CSV to your DM with me.")
    blocks.append(context(" ".join(notes)))
    return f"Spend in {bill.month.label}: {money(total.total, currency)}", blocks


CSV_COLUMNS = (
    "month",
    "job_id",
    "job",
    "owner",
    "channel",
    "base_model",
    "state",
    "started_at",
    "estimated_cost",
    "counted_cost",
    "counts_as",
    "currency",
    "still_billing",
)


def _amount_cell(value: float | None) -> str:
    return "" if value is None else f"{Decimal(repr(value)):.4f}"


def bill_csv(bill: Bill) -> bytes:
    """The month's jobs for finance, one row each; every cell safe to open in a spreadsheet."""
    from bot.services.spend import cost_of

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(CSV_COLUMNS)
    for job in bill.jobs:
        counts = cost_of(job)
        row = [
            bill.month.label,
            str(job.job_id),
            job.display_name,
            job.owner_user_id,
            job.channel_id,
            job.base_model,
            job.state,
            job.created_at.astimezone(bill.month.zone).isoformat(timespec="seconds"),
            _amount_cell(job.estimated_cost),
            _amount_cell(job.counted_cost),
            "" if counts is None else f"{counts:.4f}",
            job.cost_currency or bill.currency,
            "yes" if job.state in ("queued", "running") else "no",
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def bill_csv_file_name(month: str) -> str:
    return f"tunebot-spend-{month}.csv"


def bill_csv_title(month: str) -> str:
    """The CSV's title (a file title: plain text)."""
    return f"tunebot spend {month}"


def bill_csv_sent_text(month: str, *, sent: bool) -> str:
    if sent:
        return f":page_facing_up: The spend of {month} is in a CSV in your DM with me."
    return f"I could not send the CSV of {month} to your DM with me; try again in a moment."


def bad_month_text(typed: str) -> str:
    return (
        f"`{escape_truncated(typed, 40)}` is not a month: give one as `YYYY-MM`, such as `2026-11`. "
        "Usage: `/tune spend [YYYY-MM] [csv]`."
    )


# ------------------------------------------------------------------ budget notices


def budget_notice_text(due: NoticeDue) -> str:
    """The owner's month passed 80 % of their budget (once a month, in their DM)."""
    return (
        f":warning: You have spent {money(due.spent, due.currency)} of your "
        f"{money(due.budget, due.currency)} monthly tuning budget in {due.month.label} (past "
        f"{due.mark}%). Jobs that would go over it are refused or sent for approval, as the spending "
        "policy says. `/tune spend` shows the bill."
    )
