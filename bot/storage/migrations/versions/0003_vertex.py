"""Vertex AI first-class: held-out validation examples per job, and what Vertex reports
beyond state and percent (sub-state, eval loss, data stats, checkpoints, the tuned model,
the uploaded training file).

Revision ID: 0003_vertex
Revises: 0001_baseline
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_vertex"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None


def _job_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("detail_state", sa.String(length=32), nullable=True),
        sa.Column("eval_loss", sa.Float(), nullable=True),
        sa.Column("tuning_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("tuned_model", sa.String(length=300), nullable=True),
        sa.Column("data_stats", sa.Text(), nullable=True),
        sa.Column("checkpoints", sa.Text(), nullable=True),
        sa.Column("training_uri", sa.String(length=500), nullable=True),
    )


def upgrade() -> None:
    op.create_table(
        "job_holdout",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("percent", sa.Float(), nullable=True),
        sa.Column("source_dataset_id", sa.Integer(), nullable=True),
        sa.Column("example_count", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("uri", sa.String(length=500), nullable=True),
        sa.Column("examples_gz", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["tuning_job.id"]),
        sa.ForeignKeyConstraint(["source_dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("job_id"),
    )
    with op.batch_alter_table("tuning_job") as batch:
        for column in _job_columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("tuning_job") as batch:
        for column in reversed(_job_columns()):
            batch.drop_column(column.name)
    op.drop_table("job_holdout")
