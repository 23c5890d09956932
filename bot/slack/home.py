"""The App Home tab: a person's datasets, running jobs and models, and the team's other models.

Drawn when they open it (`app_home_opened`) and redrawn when something it shows changes (a
job moves or ends, a dataset or a model is added or deleted), at most once every
`min_interval` seconds per person: changes that come faster are folded into one
`views.publish` at the end of the interval. Only people who opened their Home tab since
this process started are redrawn (an idle workspace costs nothing).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.types import JobState, ModelState
from bot.render.text import escape_mrkdwn as esc
from bot.slack.blocks import (
    ACTION_DELETE,
    ACTION_TRY,
    MODEL_STATE_LABEL,
    Block,
    context,
    plain,
    section,
    state_badge,
    when,
)
from bot.storage.models import TuningJob
from bot.storage.repositories.datasets import DatasetSummary
from bot.storage.repositories.jobs import ACTIVE_STATES
from bot.storage.store import Store

log = logging.getLogger(__name__)

HOME_BLOCK_LIMIT = 100  # Slack's limit for a Home tab
SHOWN_PER_SECTION = 10
DEFAULT_MIN_INTERVAL = 3.0


@dataclass(frozen=True)
class HomeData:
    user_id: str
    datasets: Sequence[DatasetSummary]
    running: Sequence[TuningJob]
    mine: Sequence[TuningJob]
    others: Sequence[TuningJob]


def load_home(store: Store, team_id: str, user_id: str) -> HomeData:
    jobs = store.jobs.team_models(team_id)
    finished = [j for j in jobs if j.state == JobState.SUCCEEDED.value]
    return HomeData(
        user_id=user_id,
        datasets=store.datasets.list_for_owner(team_id, user_id),
        running=[j for j in jobs if j.owner_user_id == user_id and j.state in ACTIVE_STATES],
        mine=[j for j in finished if j.owner_user_id == user_id],
        others=[j for j in finished if j.owner_user_id != user_id],
    )


def home_view(data: HomeData) -> dict[str, Any]:
    """The Home tab's view (pure)."""
    blocks: list[Block] = [
        {"type": "header", "text": plain("tunebot")},
        context("Fine-tune Gemini models from Slack. `/tune help` lists the commands."),
        {"type": "divider"},
        section(f"*Your datasets* ({len(data.datasets)})"),
    ]
    if not data.datasets:
        blocks.append(context("None yet: `/tune upload` or mention @tunebot with a file attached."))
    for item in data.datasets[:SHOWN_PER_SECTION]:
        d = item.dataset
        used = ", ".join(esc(n) for n in item.job_names[:3]) if item.job_names else "no jobs yet"
        blocks.append(
            section(
                f"*{esc(d.name)}* — {d.example_count:,} examples · {when(d.created_at)} · used by: {used}"
            )
        )
    blocks += [{"type": "divider"}, section(f"*Your running jobs* ({len(data.running)})")]
    if not data.running:
        blocks.append(context("Nothing tuning. `/tune start <dataset>` starts a job."))
    for job in data.running[:SHOWN_PER_SECTION]:
        steps = f" · step {job.completed_steps} / {job.total_steps}" if job.total_steps else ""
        blocks.append(
            section(f"*{esc(job.display_name)}* — {state_badge(job.state)} {job.percent:.0f}%{steps}")
        )
    blocks += [{"type": "divider"}, section(f"*Your models* ({len(data.mine)})")]
    if not data.mine:
        blocks.append(context("No tuned models yet."))
    for job in data.mine[:SHOWN_PER_SECTION]:
        blocks += _model_blocks(job, deletable=True)
    blocks += [{"type": "divider"}, section(f"*The team's other models* ({len(data.others)})")]
    if not data.others:
        blocks.append(context("None yet."))
    for job in data.others[:SHOWN_PER_SECTION]:
        blocks += _model_blocks(job, deletable=False)
    return {"type": "home", "blocks": blocks[:HOME_BLOCK_LIMIT]}


def _model_blocks(job: TuningJob, *, deletable: bool) -> list[Block]:
    name = job.model_name or ""
    owner = "" if deletable else f" · by <@{job.owner_user_id}>"
    buttons: list[Block] = [
        {"type": "button", "action_id": ACTION_TRY, "text": plain("Try"), "value": name, "style": "primary"}
    ]
    if deletable:
        buttons.append(
            {
                "type": "button",
                "action_id": ACTION_DELETE,
                "text": plain("Delete"),
                "value": name,
                "style": "danger",
                "confirm": {
                    "title": plain("Delete this model?"),
                    "text": {
                        "type": "mrkdwn",
                        "text": f"*{esc(job.display_name)}* will be deleted for everyone.",
                    },
                    "confirm": plain("Delete"),
                    "deny": plain("Cancel"),
                    "style": "danger",
                },
            }
        )
    return [
        section(f"*{esc(job.display_name)}* — {MODEL_STATE_LABEL[ModelState.READY]}{owner}"),
        context(f"`{esc(name)}` · base `{esc(job.base_model)}`"),
        {"type": "actions", "block_id": f"home_{job.id}", "elements": buttons},
    ]


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
        try:
            view = home_view(await asyncio.to_thread(load_home, self.store, team_id, user_id))
            await self.client.views_publish(user_id=user_id, view=view)
            self.published += 1
        except SlackApiError as exc:
            error = exc.response.get("error") if exc.response is not None else "unknown"
            log.warning("could not publish the Home tab of %s: %s", user_id, error)
        except Exception:
            log.exception("could not draw the Home tab of %s", user_id)

    async def aclose(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
