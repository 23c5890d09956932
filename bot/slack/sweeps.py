"""Each poll cycle: every unfinished sweep's one leaderboard message, posted once and edited in
place when it changes, and once every variant has ended, one notice in its thread.

Exactly once: the leaderboard's post carries Slack message metadata naming the sweep;
`message_state` is "posting" while it goes out, so after an ambiguous failure or a crash the
channel is searched for it (`post_once`) before anything is posted again. The notice is claimed
on the sweep row ("" -> "claimed") before it is posted, found by its metadata after a failure,
and marked "posted" after."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.presentation.sweep_board import sweep_board_blocks, sweep_ended_text
from bot.services.sweep_board import SweepBoard, sweep_board
from bot.slack.calls import call, paged, post_once
from bot.storage.models import Sweep
from bot.storage.store import Store

log = logging.getLogger(__name__)

BOARD_EVENT_TYPE = "tunebot_sweep"
NOTICE_EVENT_TYPE = "tunebot_sweep_notice"


def sweep_metadata(sweep_id: int, event_type: str) -> dict[str, Any]:
    return {"event_type": event_type, "event_payload": {"sweep_id": str(sweep_id)}}


def is_sweep_message(message: dict[str, Any], sweep_id: int, event_type: str) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == event_type and str(payload.get("sweep_id")) == str(sweep_id)


class SweepBoards:
    """Keeps every sweep's leaderboard message current and posts its end notice once."""

    def __init__(self, store: Store, client: AsyncWebClient) -> None:
        self.store = store
        self.client = client

    async def run_due(self) -> None:
        try:
            sweeps = await self.store.run(self.store.sweeps.unfinished)
        except Exception:
            log.exception("could not read the unfinished sweeps")
            return
        for sweep in sweeps:
            try:
                await self.refresh(sweep)
            except Exception as exc:  # Slack or the database: the next cycle tries again
                log.warning("sweep %s: leaderboard not brought up to date yet: %s", sweep.id, exc)

    async def refresh(self, sweep: Sweep) -> None:
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
                await self.store.run(self.store.sweeps.update, sweep.id, message_state="posting")
                ts = await post_once(
                    self.client,
                    lambda: self._find(sweep, BOARD_EVENT_TYPE, None),
                    channel=sweep.channel_id,
                    text=text,
                    blocks=blocks,
                    metadata=sweep_metadata(sweep.id, BOARD_EVENT_TYPE),
                )
            await self.store.run(
                self.store.sweeps.update,
                sweep.id,
                message_ts=ts,
                message_state="posted",
                shown_signature=signature,
            )
            sweep.message_ts = ts
        elif sweep.shown_signature != signature:
            await call(
                self.client,
                "chat_update",
                channel=sweep.channel_id,
                ts=sweep.message_ts,
                text=text,
                blocks=blocks,
            )
            await self.store.run(self.store.sweeps.update, sweep.id, shown_signature=signature)
        if board.ended:
            await self._notify(sweep, board)

    async def _notify(self, sweep: Sweep, board: SweepBoard) -> None:
        assert sweep.id is not None
        fresh = await self.store.run(
            self.store.sweeps.move_state, sweep.id, "notice_state", from_="", to="claimed"
        )
        if not fresh and sweep.notice_state != "claimed":
            return
        ts = None if fresh else await self._find(sweep, NOTICE_EVENT_TYPE, sweep.message_ts)
        if ts is None:
            await post_once(
                self.client,
                lambda: self._find(sweep, NOTICE_EVENT_TYPE, sweep.message_ts),
                channel=sweep.channel_id,
                thread_ts=sweep.message_ts,
                text=sweep_ended_text(board),
                metadata=sweep_metadata(sweep.id, NOTICE_EVENT_TYPE),
            )
        await self.store.run(self.store.sweeps.update, sweep.id, notice_state="posted")

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
