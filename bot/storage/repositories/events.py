"""Slack event and trigger ids seen, so a retried delivery is handled once.

Each public method is one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.storage.engine import Repository
from bot.storage.models import (
    SeenEvent,
    utcnow,
)


class EventRepository(Repository):
    def first_delivery(self, event_id: str) -> bool:
        """True the first time an Events API `event_id` is seen, False on Slack's retries."""
        with self.session() as session:
            session.add(SeenEvent(event_id=event_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
            return True

    def forget_older_than(self, age: timedelta, *, now: datetime | None = None) -> int:
        """Drop de-duplication records Slack can no longer retry (it retries within minutes)."""
        cutoff = (now or utcnow()) - age
        with self.engine.begin() as connection:
            result = connection.execute(delete(SeenEvent).where(col(SeenEvent.seen_at) < cutoff))
            return int(result.rowcount or 0)
