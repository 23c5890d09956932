"""Spend policies and budget notices (issue #22).

- `spend_policy`: a team's policy once an admin changed it in Slack (until then the settings
  give it), one row per team.
- `budget_notice`: each "your month passed 80 % of your budget" notice, claimed before it is
  posted (unique per team, month, budget, person or channel, and share), so it is sent once.

Revision ID: 0012_policies
Revises: 0011_spend_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_policies"
down_revision = "0011_spend_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend_policy",
        sa.Column("team_id", sa.String(length=32), primary_key=True),
        sa.Column("starters", sa.Text(), nullable=False),
        sa.Column("approval_above", sa.String(length=32), nullable=False),
        sa.Column("budget_per_user", sa.String(length=32), nullable=False),
        sa.Column("budget_per_channel", sa.String(length=32), nullable=False),
        sa.Column("over_budget", sa.String(length=16), nullable=False),
        sa.Column("approvers", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "budget_notice",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("budget", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("mark", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("team_id", "month", "budget", "subject_id", "mark", name="uq_budget_notice"),
    )


def downgrade() -> None:
    op.drop_table("budget_notice")
    op.drop_table("spend_policy")
