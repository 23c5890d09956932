"""What a Vertex AI tuning job received (issue #20): `tuning_job.hyperparameters`, JSON
read back from the job (epochs or none, learning-rate multiplier, adapter size, export
last checkpoint only).

Revision ID: 0007_hyperparameters
Revises: 0006_eval_requests
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_hyperparameters"
down_revision = "0006_eval_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tuning_job") as batch:
        batch.add_column(sa.Column("hyperparameters", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tuning_job") as batch:
        batch.drop_column("hyperparameters")
