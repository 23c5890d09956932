"""Who spent what (issue #22): what each job costs, and the audit log.

- `tuning_job.estimated_tokens`, `estimated_cost`, `counted_tokens`, `counted_cost`,
  `cost_currency`: the estimate made at the start and the cost counted from the tokens the
  service bills (NULL for jobs started before: no estimate was kept).
- `tuning_job.cancelled_by`: who stopped a job (`/tune cancel`, or a budget).
- `audit_event`: every start, approval, decline, withdrawal, cancel, delete and policy change.

Revision ID: 0011_spend_audit
Revises: 0010_conversations
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_spend_audit"
down_revision = "0010_conversations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tuning_job") as batch:
        batch.add_column(sa.Column("estimated_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("estimated_cost", sa.Float(), nullable=True))
        batch.add_column(sa.Column("counted_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("counted_cost", sa.Float(), nullable=True))
        batch.add_column(sa.Column("cost_currency", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("cancelled_by", sa.String(length=32), nullable=True))
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
    )
    op.create_index("ix_audit_event_team_id", "audit_event", ["team_id"])
    op.create_index("ix_audit_event_at", "audit_event", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.drop_index("ix_audit_event_team_id", table_name="audit_event")
    op.drop_table("audit_event")
    with op.batch_alter_table("tuning_job") as batch:
        for name in (
            "cancelled_by",
            "cost_currency",
            "counted_cost",
            "counted_tokens",
            "estimated_cost",
            "estimated_tokens",
        ):
            batch.drop_column(name)
