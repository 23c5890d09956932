"""Lineage and team aliases (issue #23, items 4 and 5).

- `tuning_job.parent_model`, `parent_checkpoint`, `parent_name`: the tuned model a job
  continued from (`/tune start … from=<model> [checkpoint=N]`), NULL for a job from a base model.
- `model_alias`: a team's names for its models (`/tune promote <model> as <alias>`).
- `alias_move`: every move of an alias (who, when, from what, to what), appended only.

Revision ID: 0014_lineage_aliases
Revises: 0013_approvals
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_lineage_aliases"
down_revision = "0013_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tuning_job") as batch:
        batch.add_column(sa.Column("parent_model", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("parent_checkpoint", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("parent_name", sa.String(length=80), nullable=True))
    op.create_table(
        "model_alias",
        sa.Column("team_id", sa.String(length=32), primary_key=True),
        sa.Column("name", sa.String(length=40), primary_key=True),
        sa.Column("model_name", sa.String(length=200), nullable=False),
        sa.Column("moved_by", sa.String(length=32), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alias_move",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("alias", sa.String(length=40), nullable=False),
        sa.Column("from_model", sa.String(length=200), nullable=True),
        sa.Column("to_model", sa.String(length=200), nullable=False),
        sa.Column("moved_by", sa.String(length=32), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alias_move_team_id", "alias_move", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_alias_move_team_id", table_name="alias_move")
    op.drop_table("alias_move")
    op.drop_table("model_alias")
    with op.batch_alter_table("tuning_job") as batch:
        for name in ("parent_name", "parent_checkpoint", "parent_model"):
            batch.drop_column(name)
