"""Hostile input for the builders of `/tune cancel` and `/tune audit` (bot/presentation/cancel.py
and audit.py), for tests/test_escaping_walk.py's BUILDERS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.domain.audit import TUNEBOT_ACTOR, AuditAction, AuditEntry
from bot.domain.types import Checkpoint
from bot.presentation import audit, cancel
from bot.services.audit import AuditMonth, Month
from bot.services.cancel import CancelOutcome
from bot.storage.models import TuningJob

AT = datetime(2026, 12, 3, 18, 5, tzinfo=UTC)


def cancel_audit_builders(hostile: str) -> dict[str, Callable[[], Any] | str]:
    def job() -> TuningJob:
        return TuningJob(
            id=7,
            team_id="T1",
            owner_user_id="U0OWNER",
            channel_id="C1",
            display_name=hostile,
            base_model="gemini-2.5-flash",
            model_name=f"projects/p/locations/l/tuningJobs/{hostile}",
            epoch_count=4,
            batch_size=0,
            learning_rate=0.0,
            state="running",
            percent=40.0,
        )

    kept = (Checkpoint(hostile, epoch=1, endpoint="e"), Checkpoint("2", epoch=2, endpoint="e"))
    outcomes = [
        CancelOutcome("cancelled", job(), by=hostile, cost=1.5, currency=hostile, kept=kept),
        CancelOutcome("cancelled", job(), by="U1", cost=None),
        CancelOutcome("already", job(), by=hostile),
        CancelOutcome("ended", job()),
        CancelOutcome("starting", job()),
        CancelOutcome("refused", job()),
        CancelOutcome("unsupported", job(), reason=hostile),
        CancelOutcome("failed", job(), reason=hostile),
        CancelOutcome("unknown"),
    ]
    entries = [
        AuditEntry(AT, hostile, AuditAction.CANCEL, hostile, 1.25, hostile, {"note": hostile}),
        AuditEntry(AT, "U0ADMIN", AuditAction.DELETE, hostile),
        AuditEntry(AT, TUNEBOT_ACTOR, AuditAction.EXPIRE, ""),
    ]
    month = AuditMonth(Month(2026, 12), entries * 20)
    return {
        "cancel.kept_checkpoints_text": lambda: cancel.kept_checkpoints_text(kept),
        "cancel.cancelled_line": lambda: cancel.cancelled_line(hostile, kept, 2.0, hostile),
        "cancel.cancel_prompt_blocks": lambda: cancel.cancel_prompt_blocks(job()),
        "cancel.cancel_outcome_text": lambda: [cancel.cancel_outcome_text(o) for o in outcomes],
        "audit.audit_refusal_text": "tunebot's own words",
        "audit.audit_month_usage_text": lambda: audit.audit_month_usage_text(hostile),
        "audit.audit_line": lambda: [audit.audit_line(e) for e in entries],
        "audit.audit_blocks": lambda: [
            audit.audit_blocks(month),
            audit.audit_blocks(AuditMonth(month.month, [])),
        ],
        "audit.audit_csv": "a CSV file, every cell neutralised (tests/test_audit_log.py)",
        "audit.audit_csv_file_name": "a file name made of a month",
        "audit.audit_csv_title": "a file's title: plain text",
    }
