"""Dataset insight and base-vs-tuned evaluation (issue #16).

- `dataset_insight`: what was found in a dataset while it was validated, as JSON;
- `tuning_job.eval_state` / `eval_ts` and `job_evaluation`: the evaluation run and posted once
  after a job succeeds;
- `try_thread.base_model`: a `/tune compare` thread, whose replies go to both models.

Revision ID: 0005_insight_eval
Revises: 0003_vertex (on main: relink after whichever branch lands before)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_insight_eval"
down_revision = "0003_vertex"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_insight",
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("insight_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["dataset_id"], ["dataset.id"]),
        sa.PrimaryKeyConstraint("dataset_id"),
    )
    op.create_table(
        "job_evaluation",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["tuning_job.id"]),
        sa.PrimaryKeyConstraint("job_id"),
    )
    with op.batch_alter_table("tuning_job") as batch:
        batch.add_column(sa.Column("eval_state", sa.String(length=16), nullable=False, server_default="none"))
        batch.add_column(sa.Column("eval_ts", sa.String(length=32), nullable=True))
    with op.batch_alter_table("try_thread") as batch:
        batch.add_column(sa.Column("base_model", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("try_thread") as batch:
        batch.drop_column("base_model")
    with op.batch_alter_table("tuning_job") as batch:
        batch.drop_column("eval_ts")
        batch.drop_column("eval_state")
    op.drop_table("job_evaluation")
    op.drop_table("dataset_insight")
