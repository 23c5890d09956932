"""Approvals (issue #22): `approval_request`, a start over a limit waiting for an approver,
and `approval_message`, each message of a request posted exactly once.

Revision ID: 0013_approvals
Revises: 0012_policies
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_approvals"
down_revision = "0012_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("requester_user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("starts", sa.Text(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("month_spent", sa.Float(), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("rule_limit", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("job_ids", sa.String(length=500), nullable=True),
        sa.Column("start_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_request_team_id", "approval_request", ["team_id"])
    op.create_index("ix_approval_request_state", "approval_request", ["state"])
    op.create_table(
        "approval_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("shown", sa.String(length=16), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["approval_request.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_message_request_id", "approval_message", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_approval_message_request_id", table_name="approval_message")
    op.drop_table("approval_message")
    op.drop_index("ix_approval_request_state", table_name="approval_request")
    op.drop_index("ix_approval_request_team_id", table_name="approval_request")
    op.drop_table("approval_request")
