"""Sweeps (issue #23, item 1).

- `sweep`: one `/tune sweep`: its team, owner, channel, dataset, settings grid (JSON), the
  metric it ranks by, its one leaderboard message (`message_ts`, `message_state`,
  `shown_signature`) and its end notice (`notice_state`).
- `tuning_job.sweep_id`: the sweep a job is a variant of (NULL for a job of its own).

Revision ID: 0015_sweeps
Revises: 0014_lineage_aliases
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_sweeps"
down_revision = "0014_lineage_aliases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sweep",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("owner_user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("dataset_name", sa.String(length=200), nullable=False),
        sa.Column("grid", sa.Text(), nullable=False),
        sa.Column("rank_by", sa.String(length=16), nullable=False),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("message_state", sa.String(length=16), nullable=False),
        sa.Column("shown_signature", sa.String(length=500), nullable=True),
        sa.Column("notice_state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
    )
    op.create_index("ix_sweep_team_id", "sweep", ["team_id"])
    with op.batch_alter_table("tuning_job") as batch:
        batch.add_column(sa.Column("sweep_id", sa.Integer(), nullable=True))
        batch.create_index("ix_tuning_job_sweep_id", ["sweep_id"])


def downgrade() -> None:
    with op.batch_alter_table("tuning_job") as batch:
        batch.drop_index("ix_tuning_job_sweep_id")
        batch.drop_column("sweep_id")
    op.drop_index("ix_sweep_team_id", table_name="sweep")
    op.drop_table("sweep")
