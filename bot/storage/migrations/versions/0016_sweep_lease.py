"""A lease on each sweep (issue #23): `sweep.lease_owner` and `sweep.lease_expires_at` name
the process refreshing the sweep's leaderboard and posting its end notice, so that of several
replicas one at a time does; a process that died loses it when it expires. Existing rows get
no lease (NULL: free to claim).

Revision ID: 0016_sweep_lease
Revises: 0015_sweeps
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_sweep_lease"
down_revision = "0015_sweeps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sweep") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("lease_owner")
