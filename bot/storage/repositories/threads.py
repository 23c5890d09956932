"""Try and compare threads: which model answers in which thread, and the thread's turns.

Each public method is one transaction."""

from __future__ import annotations

from sqlmodel import col, select

from bot.domain.types import Turn
from bot.storage.engine import Repository
from bot.storage.models import ThreadTurn, TryThread


class ThreadRepository(Repository):
    def add(
        self,
        *,
        channel_id: str,
        thread_ts: str,
        model_name: str,
        user_id: str,
        base_model: str | None = None,
        system_instruction: str | None = None,
    ) -> None:
        with self.session() as session:
            session.merge(
                TryThread(
                    channel_id=channel_id,
                    thread_ts=thread_ts,
                    model_name=model_name,
                    user_id=user_id,
                    base_model=base_model,
                    system_instruction=system_instruction,
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

    def system_instruction(self, channel_id: str, thread_ts: str) -> str | None:
        """The thread's `system="…"` (None: none given)."""
        with self.session() as session:
            row = session.get(TryThread, (channel_id, thread_ts))
            return row.system_instruction if row else None

    def add_exchange(self, channel_id: str, thread_ts: str, prompt: str, answers: dict[str, str]) -> None:
        """A prompt and the answers to it (lane -> text; a failed answer is left out)."""
        with self.session() as session:
            session.add(ThreadTurn(channel_id=channel_id, thread_ts=thread_ts, role="user", text=prompt))
            for lane, text in answers.items():
                session.add(
                    ThreadTurn(channel_id=channel_id, thread_ts=thread_ts, lane=lane, role="model", text=text)
                )
            session.commit()

    def turns(self, channel_id: str, thread_ts: str, lane: str) -> list[Turn]:
        """The thread's turns as `lane`'s model saw them, oldest first: every prompt, its own answers."""
        with self.session() as session:
            rows = session.exec(
                select(ThreadTurn)
                .where(ThreadTurn.channel_id == channel_id, ThreadTurn.thread_ts == thread_ts)
                .where(col(ThreadTurn.lane).in_(("", lane)))
                .order_by(col(ThreadTurn.id))
            ).all()
            return [Turn(r.role, r.text) for r in rows]
