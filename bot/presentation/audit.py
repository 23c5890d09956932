"""`/tune audit [YYYY-MM]`: a month of the audit log for admins, and its CSV export.

Times are shown in UTC, as everywhere in tunebot (it knows no workspace time zone). Names
and subjects come from users: escaped in Slack, neutralised (`spreadsheet_safe`) in the CSV.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from typing import Any

from bot.domain.audit import TUNEBOT_ACTOR, AuditAction, AuditEntry
from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.evaluation.report import spreadsheet_safe
from bot.presentation.text import format_money
from bot.services.audit import AuditMonth

Block = dict[str, Any]

AUDIT_USAGE = "`/tune audit [YYYY-MM]`"
SHOWN_ENTRIES = 40  # in Slack; the CSV holds the whole month
LINES_PER_SECTION = 10
SUBJECT_LIMIT = 80
_SLACK_ID = r"[UW][A-Z0-9]{2,30}"

ACTION_WORDS = {
    AuditAction.START: "started",
    AuditAction.APPROVE: "approved",
    AuditAction.DECLINE: "declined",
    AuditAction.WITHDRAW: "withdrew",
    AuditAction.EXPIRE: "expired",
    AuditAction.CANCEL: "cancelled",
    AuditAction.DELETE: "deleted",
    AuditAction.POLICY: "changed the policy",
}


def audit_refusal_text() -> str:
    return ":no_entry: Only a tunebot admin (`TUNEBOT_ADMINS`) may read the audit log."


def audit_month_usage_text(typed: str) -> str:
    return (
        f"`{escape_truncated(typed, 40)}` is not a month. Usage: {AUDIT_USAGE}, e.g. `/tune audit 2026-11`."
    )


def _who(user_id: str) -> str:
    if user_id == TUNEBOT_ACTOR:
        return "tunebot"
    return f"<@{user_id}>" if re.fullmatch(_SLACK_ID, user_id) else escape_truncated(user_id, 40)


def audit_line(entry: AuditEntry) -> str:
    """`2026-12-03 18:05 UTC · @ada cancelled *support bot* · USD 1.23`."""
    when = entry.at.strftime("%Y-%m-%d %H:%M UTC")
    what = ACTION_WORDS.get(entry.action, esc(str(entry.action)))
    subject = " ".join(entry.subject.split())
    did = f"{_who(entry.actor_user_id)} {what}"
    if subject:
        did += f" *{escape_truncated(subject, SUBJECT_LIMIT)}*"
    parts = [when, did]
    if entry.amount is not None:
        parts.append(format_money(entry.amount, entry.currency or ""))
    return " · ".join(parts)


def audit_blocks(month: AuditMonth) -> tuple[str, list[Block]]:
    """The month's entries, oldest first; past SHOWN_ENTRIES, a count of the rest (in the CSV)."""
    label = month.month.label
    entries = month.entries
    head = f"*Audit log, {label}* (UTC): {_count(len(entries))}."
    if not entries:
        head = f"*Audit log, {label}* (UTC): nothing was recorded this month."
    blocks: list[Block] = [_section(head)]
    shown = entries[:SHOWN_ENTRIES]
    for start in range(0, len(shown), LINES_PER_SECTION):
        chunk = shown[start : start + LINES_PER_SECTION]
        blocks.append(_section("\n".join(f"• {audit_line(e)}" for e in chunk)))
    notes = []
    if len(entries) > len(shown):
        notes.append(f"{len(entries) - len(shown):,} more not shown here")
    if entries:
        notes.append("the whole month is in the CSV sent to you in a DM")
    notes.append("the log is append-only: nothing in it can be changed from Slack")
    note = "; ".join(notes)
    blocks.append(_context(note[:1].upper() + note[1:] + "."))
    return f"Audit log {label}: {_count(len(entries))}", blocks


def audit_csv(entries: Sequence[AuditEntry]) -> bytes:
    """The whole month as CSV for finance: every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["when_utc", "who", "action", "subject", "amount", "currency", "details"])
    for entry in entries:
        row = [
            entry.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            entry.actor_user_id,
            str(entry.action),
            entry.subject,
            f"{entry.amount:.6f}".rstrip("0").rstrip(".") if entry.amount is not None else "",
            entry.currency or "",
            json.dumps(entry.details, sort_keys=True, ensure_ascii=False) if entry.details else "",
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return out.getvalue().encode("utf-8")


def audit_csv_file_name(label: str) -> str:
    return f"tunebot-audit-{label}.csv"


def audit_csv_title(label: str) -> str:
    """The title of the month's audit CSV (a file title: plain text)."""
    return f"tunebot audit log {label}"


def _count(n: int) -> str:
    return f"{n:,} entry" if n == 1 else f"{n:,} entries"


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
