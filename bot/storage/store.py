"""tunebot's records: one repository per aggregate, and the one way to reach them from async code.

Repositories are plain blocking objects (each public method one transaction). Code on the
event loop never calls them directly: it awaits `Store.run(fn, *args)`, which runs the call
in a worker thread, so a slow disk or a locked table cannot stall Slack's acks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.storage import schema
from bot.storage.engine import make_engine
from bot.storage.repositories.aliases import AliasRepository
from bot.storage.repositories.approvals import ApprovalRepository
from bot.storage.repositories.audit import AuditRepository
from bot.storage.repositories.datasets import DatasetRepository
from bot.storage.repositories.eval_requests import EvalRequestRepository
from bot.storage.repositories.evaluations import EvaluationRepository
from bot.storage.repositories.events import EventRepository
from bot.storage.repositories.jobs import JobRepository
from bot.storage.repositories.ownership import OwnershipRepository
from bot.storage.repositories.spend import SpendRepository
from bot.storage.repositories.sweeps import SweepRepository
from bot.storage.repositories.threads import ThreadRepository

P = ParamSpec("P")
T = TypeVar("T")


class Store:
    """The repositories over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.datasets = DatasetRepository(engine)
        self.jobs = JobRepository(engine)
        self.evaluations = EvaluationRepository(engine)
        self.eval_requests = EvalRequestRepository(engine)
        self.ownership = OwnershipRepository(engine)
        self.threads = ThreadRepository(engine)
        self.events = EventRepository(engine)
        self.audit = AuditRepository(engine)
        self.aliases = AliasRepository(engine)
        self.approvals = ApprovalRepository(engine)
        self.spend = SpendRepository(engine)
        self.sweeps = SweepRepository(engine)

    @classmethod
    def from_url(cls, database_url: str) -> Store:
        store = cls(make_engine(database_url))
        store.create_schema()
        return store

    def create_schema(self) -> None:
        """Create or upgrade the schema in place (Alembic; see bot/storage/schema.py)."""
        schema.upgrade(self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call a repository method (or a function of several) off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)
