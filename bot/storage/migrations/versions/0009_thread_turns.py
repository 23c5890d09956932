"""Try and compare threads are conversations (issue #20): `thread_turn` keeps each thread's
turns (prompts and answers, in order) and `try_thread.system_instruction` its `system="…"`.

Revision ID: 0009_thread_turns
Revises: 0008_dataset_display_name
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_thread_turns"
down_revision = "0008_dataset_display_name"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("try_thread", sa.Column("system_instruction", sa.Text(), nullable=True))
    op.create_table(
        "thread_turn",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=False),
        sa.Column("lane", sa.String(length=8), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
    )
    op.create_index("ix_thread_turn_channel_id", "thread_turn", ["channel_id"])


def downgrade() -> None:
    op.drop_index("ix_thread_turn_channel_id", table_name="thread_turn")
    op.drop_table("thread_turn")
    op.drop_column("try_thread", "system_instruction")
