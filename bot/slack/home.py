"""Publishing the App Home tab (its view is `bot.presentation.home.home_view`).

Drawn when they open it (`app_home_opened`) and redrawn when something it shows changes (a
job moves or ends, a dataset or a model is added or deleted), at most once every
`min_interval` seconds per person: changes that come faster are folded into one
`views.publish` at the end of the interval. Only people who opened their Home tab since
this process started are redrawn (an idle workspace costs nothing).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from slack_sdk.web.async_client import AsyncWebClient

from bot.presentation.blocks import Block
from bot.presentation.home import home_view
from bot.services.home import load_home
from bot.slack.extras import optional
from bot.storage.models import TuningJob
from bot.storage.store import Store

DEFAULT_MIN_INTERVAL = 3.0


class HomeTab:
    """Publishes Home tabs, throttled per person."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        *,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        sections: Callable[[str, str], Awaitable[list[Block]]] | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.min_interval = min_interval
        # The throttle's time: `clock` reads it (seconds, monotonic), `sleep` waits on it.
        self.clock = clock
        self.sleep = sleep
        self._viewers: dict[str, set[str]] = {}  # team -> people who opened their Home tab
        self._last: dict[tuple[str, str], float] = {}
        self._pending: dict[tuple[str, str], asyncio.Task[None]] = {}
        self.published = 0
        # More sections, drawn at the top (the month's spend and, for admins, the policy).
        self.sections = sections

    def opened(self, team_id: str, user_id: str) -> None:
        self._viewers.setdefault(team_id, set()).add(user_id)
        self.request(team_id, user_id)

    def changed(self, team_id: str, *_users: str) -> None:
        """Something the team's Home tabs show changed (models are shown to the whole team)."""
        for user_id in sorted(self._viewers.get(team_id, ())):
            self.request(team_id, user_id)

    def job_changed(self, job: TuningJob) -> None:
        self.changed(job.team_id)

    def request(self, team_id: str, user_id: str) -> None:
        key = (team_id, user_id)
        if key in self._pending:
            return  # the publish already scheduled will show this change too
        wait = self._last.get(key, float("-inf")) + self.min_interval - self.clock()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._pending[key] = loop.create_task(self._publish_after(key, max(0.0, wait)))

    async def _publish_after(self, key: tuple[str, str], wait: float) -> None:
        try:
            if wait:
                await self.sleep(wait)
        finally:
            self._pending.pop(key, None)
        self._last[key] = self.clock()
        team_id, user_id = key
        if await optional(f"publishing the Home tab of {user_id}", self._publish(team_id, user_id)):
            self.published += 1

    async def _publish(self, team_id: str, user_id: str) -> bool:
        extra = await self.sections(team_id, user_id) if self.sections is not None else []
        view = home_view(await self.store.run(load_home, self.store, team_id, user_id), extra)
        await self.client.views_publish(user_id=user_id, view=view)
        return True

    async def aclose(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
