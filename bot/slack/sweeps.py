"""Each poll cycle: every unfinished sweep's one leaderboard message, posted once and edited in
place when it changes, and once every variant has ended, one notice in its thread.

One process at a time: a cycle first leases the unfinished sweeps no live process holds
(`sweep.lease_owner`/`lease_expires_at`; of several replicas on PostgreSQL, one gets each
sweep), refreshes them, and gives the leases up. A process that dies holding one loses it when
it expires (TUNEBOT_LEASE_SECONDS) and another takes over. Every write is fenced by the lease
and renews it, so a process that lost the sweep posts nothing more for it.

Exactly once: the leaderboard's post carries Slack message metadata naming the sweep;
`message_state` is "posting" (written, fenced, before the post goes out), so after an
ambiguous failure or a crash the channel is searched for it (`post_once`) before anything is
posted again. The notice likewise: `notice_state` "" -> "claimed" before it is posted, found
by its metadata when a holder finds it "claimed", and "posted" after.

The holder of a sweep first hands it to `resume` (bot/services/sweeps.py `resume_sweep`,
bound by the runtime): a sweep whose starting process died gets its missing variants."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.presentation.sweep_board import sweep_board_blocks, sweep_ended_text
from bot.services.sweep_board import SweepBoard, sweep_board
from bot.slack.calls import call, paged, post_once
from bot.storage.models import Sweep, utcnow
from bot.storage.store import Store

log = logging.getLogger(__name__)

BOARD_EVENT_TYPE = "tunebot_sweep"
NOTICE_EVENT_TYPE = "tunebot_sweep_notice"
SWEEPS_AT_ONCE = 10

# Resumes the start of a sweep this process holds, if it was interrupted (given the holder's
# name and its lease length; bot/services/sweeps.py `resume_sweep`).
Resume = Callable[[Sweep, str, float], Awaitable[object]]


def sweep_metadata(sweep_id: int, event_type: str) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {"sweep_id": str(sweep_id)}}


def is_sweep_message(message: dict[str, Any], sweep_id: int, event_type: str) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == event_type and str(payload.get("sweep_id")) == str(sweep_id)


class SweepBoards:
    """Keeps every sweep's leaderboard message current and posts its end notice once."""

    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        *,
        owner: str,
        lease_seconds: float = 120.0,
        clock: Callable[[], datetime] = utcnow,
        resume: Resume | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.resume = resume

    async def run_due(self) -> None:
        try:
            sweeps = await self.store.run(
                self.store.sweeps.claim,
                owner=self.owner,
                now=self.clock(),
                lease_seconds=self.lease_seconds,
                limit=SWEEPS_AT_ONCE,
            )
        except Exception:
            log.exception("could not claim the unfinished sweeps")
            return
        for sweep in sweeps:
            assert sweep.id is not None
            try:
                if self.resume is not None:
                    await self.resume(sweep, self.owner, self.lease_seconds)
                await self.refresh(sweep)
            except Exception as exc:  # Slack, the database or the service: the next cycle tries again
                log.warning("sweep %s: leaderboard not brought up to date yet: %s", sweep.id, exc)
            finally:
                try:
                    await self.store.run(self.store.sweeps.release, sweep.id, self.owner)
                except Exception:  # it expires on its own
                    log.exception("sweep %s: could not give its lease up", sweep.id)

    async def _write(self, sweep: Sweep, **changes: Any) -> bool:
        """Write `changes` (and a renewed lease) if this process still holds the sweep; False
        once another process took it over (then this one does nothing more with it)."""
        assert sweep.id is not None
        values = {**changes, "lease_expires_at": self.clock() + timedelta(seconds=self.lease_seconds)}
        ok = await self.store.run(self.store.sweeps.update_leased, sweep.id, self.owner, **values)
        if ok:
            for key, value in values.items():
                setattr(sweep, key, value)
        else:
            log.info("sweep %s: taken over by another process", sweep.id)
        return ok

    async def refresh(self, sweep: Sweep) -> None:
        """Bring the leaderboard of a sweep this process holds up to date (and post its notice
        once it has ended)."""
        assert sweep.id is not None
        board = await self.store.run(sweep_board, self.store, sweep)
        if not board.variants:
            return
        text, blocks = sweep_board_blocks(board)
        signature = hashlib.sha256(text.encode()).hexdigest()[:32]
        if sweep.message_ts is None:
            # "posting" left by a failure or a dead process: it may be in the channel already.
            ts = await self._find(sweep, BOARD_EVENT_TYPE, None) if sweep.message_state == "posting" else None
            if ts is None:
                if not await self._write(sweep, message_state="posting"):
                    return
                ts = await post_once(
                    self.client,
                    lambda: self._find(sweep, BOARD_EVENT_TYPE, None),
                    channel=sweep.channel_id,
                    text=text,
                    blocks=blocks,
                    metadata=sweep_metadata(sweep.id, BOARD_EVENT_TYPE),
                )
            if not await self._write(sweep, message_ts=ts, message_state="posted", shown_signature=signature):
                return
        elif sweep.shown_signature != signature:
            if not await self._write(sweep):  # still ours: an old holder's edit never lands last
                return
            await call(
                self.client,
                "chat_update",
                channel=sweep.channel_id,
                ts=sweep.message_ts,
                text=text,
                blocks=blocks,
            )
            if not await self._write(sweep, shown_signature=signature):
                return
        if board.ended:
            await self._notify(sweep, board)

    async def _notify(self, sweep: Sweep, board: SweepBoard) -> None:
        assert sweep.id is not None
        # "claimed" left by a failure or a dead process: it may be in the thread already.
        recovering = sweep.notice_state == "claimed"
        if not await self._write(sweep, notice_state="claimed"):
            return
        ts = await self._find(sweep, NOTICE_EVENT_TYPE, sweep.message_ts) if recovering else None
        if ts is None:
            await post_once(
                self.client,
                lambda: self._find(sweep, NOTICE_EVENT_TYPE, sweep.message_ts),
                channel=sweep.channel_id,
                thread_ts=sweep.message_ts,
                text=sweep_ended_text(board),
                metadata=sweep_metadata(sweep.id, NOTICE_EVENT_TYPE),
            )
        await self._write(sweep, notice_state="posted")

    async def _find(self, sweep: Sweep, event_type: str, thread_ts: str | None) -> str | None:
        assert sweep.id is not None
        if thread_ts is None:
            pages = paged(self.client, "conversations_history", channel=sweep.channel_id)
        else:
            pages = paged(self.client, "conversations_replies", channel=sweep.channel_id, ts=thread_ts)
        async for message in pages:
            if is_sweep_message(message, sweep.id, event_type):
                return str(message.get("ts"))
        return None
