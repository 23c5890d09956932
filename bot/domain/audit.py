"""The audit log's vocabulary (issue #22): what can be recorded, and one recorded line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditAction(StrEnum):
    START = "start"
    REQUEST = "request"  # a start over a limit, asked of the approvers
    APPROVE = "approve"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    CANCEL = "cancel"
    DELETE = "delete"
    POLICY = "policy"
    PROMOTE = "promote"  # an alias pointed at a model (issue #23)


# The actor of what tunebot does by itself (a budget's cancel, an expired request).
TUNEBOT_ACTOR = "tunebot"


@dataclass(frozen=True)
class AuditEntry:
    """One audit line as read back: who, when, what, on what, for how much, and details."""

    at: datetime
    actor_user_id: str
    action: AuditAction
    subject: str
    amount: float | None = None
    currency: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def details_json(self) -> str | None:
        return json.dumps(self.details, sort_keys=True, ensure_ascii=False) if self.details else None
