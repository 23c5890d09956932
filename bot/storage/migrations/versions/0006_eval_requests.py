"""`/tune eval` stored like a job (issue #21): `eval_request`, one row per request, with its
state, its thread and report, and the lease of the process running it.

Revision ID: 0006_eval_requests
Revises: 0005_insight_eval
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_eval_requests"
down_revision = "0005_insight_eval"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("base_model", sa.String(length=200), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("dataset_name", sa.String(length=80), nullable=False),
        sa.Column("example_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("report_ts", sa.String(length=32), nullable=True),
        sa.Column("report_json", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_eval_request_state", "eval_request", ["state"])


def downgrade() -> None:
    op.drop_index("ix_eval_request_state", table_name="eval_request")
    op.drop_table("eval_request")
