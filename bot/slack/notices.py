"""Budget notices (issue #22): when a person's month passes 80 % of their monthly budget, they
hear it once, in their DM with tunebot, whatever restarts and however many replicas run.

Each poll cycle (`Poller.each_cycle`) finds who is past the mark (bot/services/spend.py
`notices_due`), then for each claims the notice's row (`budget_notice`, unique per team,
month, budget, person and mark) before posting: a second replica's insert fails and it moves
on. The post names the notice in its Slack message metadata; after an ambiguous failure, or
when a claim left `posting` by a process that died expires, the DM is searched for that
metadata before anything is posted again (`post_once`). The row becomes `posted` with the ts.

The hard cap (cancel a running job whose counted cost would pass a hard budget: the second
half of #22 item 5) would hook in here too, beside `run_due`, on the same `notices_due` sums.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.polling.ports import ReporterError
from bot.presentation.spend import budget_notice_text
from bot.services.spend import NoticeDue, notices_due
from bot.slack.calls import SlackCallFailed, call, paged, post_once
from bot.slack.extras import channel_id_of
from bot.storage.models import BudgetNotice, utcnow
from bot.storage.store import Store

log = logging.getLogger(__name__)

NOTICE_EVENT_TYPE = "tunebot_budget_notice"
NOTICES_AT_ONCE = 20
# conversations.open errors that will not go away: the notice is given up, not retried each cycle.
NO_DM_ERRORS = frozenset({"user_not_found", "cannot_dm_bot", "user_disabled", "account_inactive"})


def notice_metadata(notice: BudgetNotice) -> dict[str, Any]:
    return {"event_type": NOTICE_EVENT_TYPE, "event_payload": {"notice_id": str(notice.id)}}


def is_notice_message(message: dict[str, Any], notice: BudgetNotice) -> bool:
    meta = message.get("metadata") or {}
    payload = meta.get("event_payload") or {}
    return meta.get("event_type") == NOTICE_EVENT_TYPE and str(payload.get("notice_id")) == str(notice.id)


class BudgetNotices:
    """Posts the budget notices that are due, each once."""

    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        settings: Settings,
        *,
        owner: str,
        lease_seconds: float,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.client = client
        self.settings = settings
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.posted = 0

    async def run_due(self) -> None:
        """One poll cycle's notices (a failure is logged; the next cycle tries again)."""
        try:
            due = await self.store.run(
                notices_due,
                self.store,
                defaults=self.settings.spend_policy(),
                zone=self.settings.zone,
                now=self.clock(),
            )
        except Exception:
            log.exception("could not work out which budget notices are due")
            return
        for item in due[:NOTICES_AT_ONCE]:
            try:
                await self._notify(item)
            except ReporterError as exc:
                log.warning("budget notice for %s not posted yet: %s", item.user_id, exc)
            except Exception:
                log.exception("budget notice for %s failed", item.user_id)

    async def _notify(self, due: NoticeDue) -> None:
        claimed = await self.store.run(
            self.store.spend.claim_notice,
            team_id=due.team_id,
            month=due.month.label,
            budget="user",
            subject_id=due.user_id,
            mark=due.mark,
            owner=self.owner,
            lease_seconds=self.lease_seconds,
            now=self.clock(),
        )
        if claimed is None:
            return  # told already, or another process is telling them
        notice, fresh = claimed
        assert notice.id is not None
        try:
            try:
                opened = await call(self.client, "conversations_open", users=due.user_id)
            except SlackCallFailed as exc:
                if exc.error not in NO_DM_ERRORS:
                    raise
                log.warning("budget notice for %s cannot be sent (%s)", due.user_id, exc.error)
                await self.store.run(self.store.spend.notice_undeliverable, notice.id, owner=self.owner)
                return
            channel = channel_id_of(opened)

            async def find() -> str | None:
                async for message in paged(self.client, "conversations_history", channel=channel):
                    if is_notice_message(message, notice):
                        return str(message.get("ts"))
                return None

            ts = None if fresh else await find()  # taken over: it may be in the DM already
            if ts is None:
                ts = await post_once(
                    self.client,
                    find,
                    channel=channel,
                    text=budget_notice_text(due),
                    metadata=notice_metadata(notice),
                )
        except BaseException:
            await self.store.run(self.store.spend.release_notice, notice.id, owner=self.owner)
            raise
        await self.store.run(self.store.spend.notice_posted, notice.id, owner=self.owner, message_ts=ts)
        self.posted += 1
