"""The audit log's cancel and delete lines, and `/tune audit [YYYY-MM]` (admins only) with its
CSV in the admin's DM, through the fake Slack on the emulator's Vertex AI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.audit import AuditAction
from bot.domain.cancelling import cost_so_far
from bot.services.audit import Month, parse_month
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.cancelling import ESTIMATE, confirm, job_number, tuning_job
from tests.helpers.slack import (
    ADMIN,
    OTHER,
    OWNER,
    all_text,
    buttons,
    click,
    command,
    eventually,
    running_stack,
    store_of,
)

ADMIN_DM = "D" + ADMIN[1:]
FORMULA_NAME = "=1+1 numbers"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def delete(stack: OfflineStack, user: str, model: str) -> str:
    asked = await command(stack, user, f"delete {model}")
    assert isinstance(asked, Ephemeral) and buttons(asked), asked
    return (await click(stack, user, asked, "Delete")).text


def text_of(answer: Ephemeral | str) -> str:
    return answer if isinstance(answer, str) else all_text(answer)


def audit_csv_rows(stack: OfflineStack) -> list[list[str]]:
    [shared] = [f for f in stack.workspace.uploads(ADMIN_DM) if f.name.startswith("tunebot-audit-")]
    return list(csv.reader(io.StringIO(shared.content.decode("utf-8"))))


async def test_the_audit_rows_of_a_whole_story_and_the_admins_month(stack: OfflineStack) -> None:
    """An admin cancels a job, its owner deletes the model it left; another job is deleted while
    it tunes. The log has one line for each, with who, what and the amount; `/tune audit` shows
    them to the admin and sends the whole month as CSV, the formula-looking name neutralised."""
    store = store_of(stack)
    first = await tuning_job(stack, name=FORMULA_NAME)
    assert "Cancelled the tuning" in await confirm(stack, ADMIN, first)
    cancelled = store.jobs.get(first.id or 0)
    assert cancelled is not None and cancelled.counted_cost is not None
    assert "Deleted" in await delete(stack, OWNER, job_number(first))

    second = await tuning_job(stack, name="Second", upload=False, done_epochs=1.5)
    assert "Cancelled the tuning of *Second* and deleted it" in await delete(stack, OWNER, job_number(second))

    mine = [
        e for e in store.audit.entries(first.team_id) if e.action in (AuditAction.CANCEL, AuditAction.DELETE)
    ]
    assert [(e.actor_user_id, e.action, e.subject) for e in mine] == [
        (ADMIN, AuditAction.CANCEL, FORMULA_NAME),
        (OWNER, AuditAction.DELETE, FORMULA_NAME),
        (OWNER, AuditAction.DELETE, "Second"),
    ]
    cancel_line, delete_cancelled, delete_tuning = mine
    assert cancel_line.amount == pytest.approx(cancelled.counted_cost) and cancel_line.currency == "USD"
    assert 0 < cancel_line.amount < ESTIMATE
    assert cancel_line.details["job_id"] == first.id and cancel_line.details["checkpoints_kept"] == ["1", "2"]
    assert delete_cancelled.amount == pytest.approx(cancelled.counted_cost)
    assert delete_cancelled.details["stopped_tuning"] is False
    assert delete_tuning.details["stopped_tuning"] is True and delete_tuning.details["job_id"] == second.id
    assert delete_tuning.amount is not None and 0 < delete_tuning.amount < ESTIMATE

    # /tune audit: the admin sees the month, privately, and gets its CSV in a DM.
    shown = text_of(await command(stack, ADMIN, "audit"))
    label = datetime.now(UTC).strftime("%Y-%m")
    assert f"Audit log, {label}" in shown and "5 entries" in shown  # the two starts, a cancel, two deletes
    assert f"<@{ADMIN}> cancelled *=1+1 numbers*" in shown and f"<@{OWNER}> deleted *Second*" in shown
    assert "USD " in shown and "UTC" in shown
    assert "nothing in it can be changed from Slack" in shown
    rows = await eventually(lambda: audit_csv_rows(stack) if stack.workspace.uploads(ADMIN_DM) else None)
    assert rows[0] == ["when_utc", "who", "action", "subject", "amount", "currency", "details"]
    assert [row[1:4] for row in rows[1:]] == [
        [OWNER, "start", f"'{FORMULA_NAME} (job {first.id})"],
        [ADMIN, "cancel", "'" + FORMULA_NAME],
        [OWNER, "delete", "'" + FORMULA_NAME],
        [OWNER, "start", f"Second (job {second.id})"],
        [OWNER, "delete", "Second"],
    ]
    assert float(rows[2][4]) == pytest.approx(cancel_line.amount, abs=1e-6) and rows[2][5] == "USD"


async def test_the_audit_log_is_for_admins_only(stack: OfflineStack) -> None:
    for user in (OWNER, OTHER):
        refused = text_of(await command(stack, user, "audit"))
        assert refused == ":no_entry: Only a tunebot admin (`TUNEBOT_ADMINS`) may read the audit log."
    assert not stack.workspace.uploads("D" + OWNER[1:])


async def test_audit_of_another_month_a_bad_month_and_a_long_month(stack: OfflineStack) -> None:
    store = store_of(stack)
    empty = text_of(await command(stack, ADMIN, "audit 2001-01"))
    assert "Audit log, 2001-01* (UTC): nothing was recorded this month." in empty
    assert not stack.workspace.uploads(ADMIN_DM)
    bad = text_of(await command(stack, ADMIN, "audit 2026-13"))
    assert "`2026-13` is not a month. Usage: `/tune audit [YYYY-MM]`" in bad
    team_id = stack.workspace.team_id
    for n in range(45):
        store.audit.append(
            team_id=team_id,
            actor_user_id=OWNER,
            action=AuditAction.DELETE,
            subject=f"model {n}",
            at=datetime(2025, 3, 10, 12, n, tzinfo=UTC),
        )
    long = text_of(await command(stack, ADMIN, "audit 2025-03"))
    assert "45 entries" in long and "5 more not shown here" in long
    assert "2025-03-10 12:00 UTC" in long and "model 39*" in long and "model 40*" not in long
    rows = await eventually(lambda: audit_csv_rows(stack) if stack.workspace.uploads(ADMIN_DM) else None)
    assert len(rows) == 46


def test_months_and_the_cost_so_far_rule() -> None:
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert parse_month("", now) == Month(2026, 12)
    december = parse_month("2026-12", now)
    assert december is not None and december.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert parse_month("2026-00", now) is None and parse_month("december", now) is None
    # The counted cost when known, else the estimate, times the share of steps done.
    assert cost_so_far(counted_cost=10.0, estimated_cost=8.0, completed_steps=5, total_steps=20) == 2.5
    assert cost_so_far(counted_cost=None, estimated_cost=8.0, completed_steps=5, total_steps=20) == 2.0
    assert cost_so_far(counted_cost=None, estimated_cost=8.0, completed_steps=0, total_steps=4) == 0.0
    # Vertex AI may report whole epochs (a percent) before its step metrics.
    assert (
        cost_so_far(counted_cost=None, estimated_cost=8.0, completed_steps=None, total_steps=8, percent=25)
        == 2.0
    )
    assert cost_so_far(counted_cost=None, estimated_cost=8.0, completed_steps=3, total_steps=None) is None
    assert cost_so_far(counted_cost=None, estimated_cost=None, completed_steps=3, total_steps=9) is None
