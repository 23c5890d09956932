"""Try and compare threads: which model answers in which thread.

Each public method is one transaction."""

from __future__ import annotations

from bot.storage.engine import Repository
from bot.storage.models import (
    TryThread,
)


class ThreadRepository(Repository):
    def add(
        self, *, channel_id: str, thread_ts: str, model_name: str, user_id: str, base_model: str | None = None
    ) -> None:
        with self.session() as session:
            session.merge(
                TryThread(
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    model_name=model_name,
                    user_id=user_id,
                    base_model=base_model,
                )
            )
            session.commit()

    def compare_base_model(self, channel_id: str, thread_ts: str) -> str | None:
        """The base model of a `/tune compare` thread (None for a `/tune try` thread)."""
        with self.session() as session:
            row = session.get(TryThread, (channel_id, thread_ts))
            return row.base_model if row else None

    def model_for(self, channel_id: str, thread_ts: str) -> str | None:
        with self.session() as session:
            row = session.get(TryThread, (channel_id, thread_ts))
            return row.model_name if row else None
