"""Bringing a database to the schema this code expects, in place, with Alembic.

`upgrade` runs on every start (`Store.from_url`). An empty database gets the tables from
the models in one `create_all` and is stamped with the newest revision (Alembic's recipe for
new databases; tests/test_schema.py checks that the revisions build the same schema).

A database made before tunebot adopted Alembic (its tables, no `alembic_version`) holds the
schema of the release that first created it: those releases ran `create_all`, which creates
missing tables and leaves a table it finds as it is. So such a database is first completed
to the baseline revision (`complete_tables_made_before_alembic`: what the later releases before
Alembic changed in their models), then stamped with the baseline and upgraded. The same
completion runs, as a check, on every versioned database too: a release before this one
stamped old databases without completing them, and those now read as current.
tests/test_old_databases.py builds a database with each released schema and upgrades it.

A current database costs one read of `alembic_version` and a look at the columns the
completion would change. On PostgreSQL the whole upgrade holds an advisory lock, so replicas
that start together upgrade once, one after another.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, DateTime, String, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.domain.states import MessageState

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001_baseline"
ADVISORY_LOCK_KEY = 7215012025  # the same key create_all took before Alembic


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the baseline always exists
        raise RuntimeError("no migration revisions found")
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade the database behind `engine` to the newest revision, in one transaction."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        current = current_revision(connection)
        if current is None and not inspect(connection).get_table_names():
            SQLModel.metadata.create_all(connection)
            MigrationContext.configure(connection).stamp(_scripts(), head_revision())
            return
        if current is not None:
            completed = complete_tables_made_before_alembic(connection)
            if completed:
                log.warning(
                    "the database was marked %s without the columns of the releases before schema"
                    " migrations: completed %s",
                    current,
                    ", ".join(completed),
                )
        if current != head_revision():
            migrate(connection)


def migrate(connection: Connection) -> None:
    """Run the revisions the database behind `connection` lacks (all of them on an empty one)."""
    config = _config(connection)
    current = current_revision(connection)
    if current is None and inspect(connection).has_table("tuning_job"):
        completed = complete_tables_made_before_alembic(connection)
        log.info(
            "the database predates schema migrations: completed %s, marking it as %s",
            ", ".join(completed) or "nothing",
            BASELINE,
        )
        command.stamp(config, BASELINE)
        current = BASELINE
    log.info("upgrading the database schema from %s to %s", current or "nothing", head_revision())
    command.upgrade(config, "head")


def complete_tables_made_before_alembic(connection: Connection) -> list[str]:
    """Make tables created by a release before Alembic hold what `0001_baseline` describes,
    keeping their rows; returns what it changed ("table.column"), nothing when complete.

    Those releases changed their models twice after the first one, and `create_all` applied
    neither change to a table it found:

    - bb23dac: timestamps became time-zone aware (`UTCDateTime`). The first releases' columns
      are `TIMESTAMP WITHOUT TIME ZONE` on PostgreSQL, holding naive UTC; written to with
      aware values they would be shifted by the session's time zone. They are converted,
      read as UTC. (SQLite stores both the same way.)
    - 3bb8853: `tuning_job.message_state`. A job whose message the old code had posted (its
      ts is recorded) is `posted`; any other `none`, so the poller posts its message once.

    Only columns the models still have are touched, so a later revision that changes one of
    them is not undone.
    """
    stored = _stored_columns(connection)
    if not any(table == "tuning_job" for table, _ in stored):
        return []
    operations = Operations(MigrationContext.configure(connection))  # (cheap: no query)
    completed: list[str] = []
    jobs = SQLModel.metadata.tables["tuning_job"]
    if "message_state" in jobs.c and ("tuning_job", "message_state") not in stored:
        operations.add_column(
            "tuning_job",
            Column(
                "message_state", String(length=16), nullable=False, server_default=MessageState.NONE.value
            ),
        )
        connection.execute(
            text("UPDATE tuning_job SET message_state = :posted WHERE message_ts IS NOT NULL"),
            {"posted": MessageState.POSTED.value},
        )
        completed.append("tuning_job.message_state")
    for (table_name, column_name), naive in stored.items():
        model = SQLModel.metadata.tables[table_name].c.get(column_name)
        if not naive or model is None or not getattr(model.type, "timezone", False):
            continue
        operations.alter_column(
            table_name,
            column_name,
            type_=DateTime(timezone=True),
            existing_type=DateTime(timezone=False),
            existing_nullable=model.nullable,
            postgresql_using=f"\"{column_name}\" AT TIME ZONE 'UTC'",
        )
        completed.append(f"{table_name}.{column_name}")
    return completed


def _stored_columns(connection: Connection) -> dict[tuple[str, str], bool]:
    """The columns the database holds of the models' tables, (table, column) -> whether it
    is a timestamp without time zone, in one query (PostgreSQL). SQLite has no such type (it
    stores both kinds the same way), so there only `tuning_job` is read."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                # pg_catalog rather than information_schema.columns: a tenth of the time
                "SELECT c.relname, a.attname, a.atttypid = 'timestamp'::regtype"
                " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
                " AND c.relname = ANY(:tables) AND a.attnum > 0 AND NOT a.attisdropped"
                " ORDER BY c.relname, a.attnum"
            ),
            {"tables": sorted(SQLModel.metadata.tables)},
        ).all()
        return {(table, column): bool(naive) for table, column, naive in rows}
    rows = connection.exec_driver_sql("PRAGMA table_info(tuning_job)").all()
    return {("tuning_job", row[1]): False for row in rows}
