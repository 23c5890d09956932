"""Dataset names keep what people type (issue #20): `dataset.display_name`, the name as typed
in any script; `dataset.name` stays the slug people type. Existing datasets show their name.

Revision ID: 0008_dataset_display_name
Revises: 0007_hyperparameters
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_dataset_display_name"
down_revision = "0007_hyperparameters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    column = sa.Column("display_name", sa.String(length=80), nullable=True)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite changes a column only by copying its table, which the foreign keys to `dataset`
        # refuse while rows refer to it: the column is added NOT NULL with an empty default
        # (which the bot never relies on: it always sets the display name).
        column = sa.Column("display_name", sa.String(length=80), nullable=False, server_default="")
        op.add_column("dataset", column)
        op.execute("UPDATE dataset SET display_name = name")
        return
    op.add_column("dataset", column)
    op.execute("UPDATE dataset SET display_name = name")
    op.alter_column("dataset", "display_name", existing_type=sa.String(length=80), nullable=False)


def downgrade() -> None:
    op.drop_column("dataset", "display_name")
