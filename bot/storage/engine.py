"""The database engine, the repositories' common base, and how a database that cannot
write is told apart from a bug."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from bot.domain.errors import StorageUnavailable

ACCEPTED_DATABASES = "tunebot takes sqlite:///PATH or postgresql://USER@HOST/DATABASE"
_SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def engine_url(database_url: str) -> str:
    """`DATABASE_URL` as SQLAlchemy takes it (PostgreSQL through psycopg 3)."""
    url = database_url
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def database_url_problem(database_url: str) -> str | None:
    """Why tunebot cannot use `database_url` (never quoting it: it may hold a password),
    or None. Checked with the settings, so a bad URL is one line at startup."""
    try:
        url = make_url(engine_url(database_url.strip()))
    except ArgumentError:
        return ACCEPTED_DATABASES
    backend = url.get_backend_name()
    if backend not in _SUPPORTED_BACKENDS:
        return f"{ACCEPTED_DATABASES}, not {backend}"
    try:
        url.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError):
        return f"{ACCEPTED_DATABASES}; the driver for {url.drivername} is not installed"
    return None


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (the default, one process) or PostgreSQL (replicas)."""
    url = engine_url(database_url)
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


_UNAVAILABLE = {
    "disk is full": "the disk is full",
    "no space left": "the disk is full",
    "readonly": "the database is read-only",
    "read-only": "the database is read-only",
    "disk i/o error": "the disk reported an I/O error",
    "unable to open database": "the database file cannot be opened",
}


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database refused, if `exc` is the database being unable to write at all
    (as opposed to a bug or a constraint); None otherwise."""
    if not isinstance(exc, OperationalError):
        return None
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return next((reason for marker, reason in _UNAVAILABLE.items() if marker in text), None)


@contextmanager
def writes_or_unavailable() -> Iterator[None]:
    """Turn a database that cannot write into StorageUnavailable (with a reason)."""
    try:
        yield
    except OperationalError as exc:
        reason = unavailable_reason(exc)
        if reason is None:
            raise
        raise StorageUnavailable(reason) from exc


class Repository:
    """One aggregate's reads and writes; each public method is one transaction.

    The methods block: async code calls them through `Store.run` (bot/storage/store.py),
    the one way tunebot reaches the database from the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
