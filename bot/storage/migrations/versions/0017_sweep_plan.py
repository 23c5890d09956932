"""A sweep's plan (issue #23): `sweep.plan` (each variant's start, JSON), `sweep.start_state`
("starting" until every variant was handed to the start, then "started") and
`sweep.start_expires_at` (the starting process's hold), so a sweep whose starting process
died is resumed with the variants it had not started. Existing rows upgrade as "started"
(nothing to resume).

Revision ID: 0017_sweep_plan
Revises: 0016_sweep_lease
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_sweep_plan"
down_revision = "0016_sweep_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.add_column(sa.Column("plan", sa.Text(), nullable=True))
        batch.add_column(
            sa.Column("start_state", sa.String(length=16), nullable=False, server_default="started")
        )
        batch.add_column(sa.Column("start_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.drop_column("start_expires_at")
        batch.drop_column("start_state")
        batch.drop_column("plan")
