"""Examples as Vertex AI takes them (issue #20): what a dataset holds beyond input/output pairs,
and datasets read in place from Cloud Storage.

- `dataset.multi_turn_count`, `dataset.system_count`: examples with earlier turns, and with a
  system instruction (0 for every existing dataset: they hold pairs).
- `dataset.system_instruction`: the instruction most of its examples share, sent in try threads.
- `dataset.max_example_tokens`: the largest example, in estimated tokens (checked against the
  base model's limit at `/tune start`); NULL where it was not measured.
- `dataset.skipped_count`: rows left out at upload (the skip-bad-rows option).
- `dataset.source_uri`: a `gs://` file validated in place and never copied (NULL: the examples
  are in `dataset_content`); `dataset.source_generation`: the object generation validated
  (`/tune start` refuses a file overwritten since).

Revision ID: 0010_conversations
Revises: 0009_thread_turns
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_conversations"
down_revision = "0009_thread_turns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset") as batch:
        batch.add_column(sa.Column("multi_turn_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("system_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("system_instruction", sa.Text(), nullable=True))
        batch.add_column(sa.Column("max_example_tokens", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("skipped_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("source_uri", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("source_generation", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dataset") as batch:
        for name in (
            "source_generation",
            "source_uri",
            "skipped_count",
            "max_example_tokens",
            "system_instruction",
            "system_count",
            "multi_turn_count",
        ):
            batch.drop_column(name)
