"""Bringing a database to the schema this code expects, in place, with Alembic.

`upgrade` runs on every start (`Store.from_url`). An empty database gets the tables from
the models in one `create_all` and is stamped with the newest revision (Alembic's recipe for
new databases; tests/test_schema.py checks that the revisions build the same schema). A
database made before tunebot adopted Alembic (its tables, no `alembic_version`) is first
stamped with the baseline revision, which is exactly that schema, then upgraded. A current
one costs one read of `alembic_version`. On PostgreSQL the whole upgrade holds an advisory
lock, so replicas that start together upgrade once, one after another.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)

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
        if current == head_revision():
            return
        if current is None and not inspect(connection).get_table_names():
            SQLModel.metadata.create_all(connection)
            MigrationContext.configure(connection).stamp(_scripts(), head_revision())
            return
        migrate(connection)


def migrate(connection: Connection) -> None:
    """Run the revisions the database behind `connection` lacks (all of them on an empty one)."""
    config = _config(connection)
    current = current_revision(connection)
    if current is None and inspect(connection).has_table("tuning_job"):
        log.info("the database predates schema migrations: marking it as %s", BASELINE)
        command.stamp(config, BASELINE)
        current = BASELINE
    log.info("upgrading the database schema from %s to %s", current or "nothing", head_revision())
    command.upgrade(config, "head")
