"""Everything the Slack listeners share, built once per process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.backends.backend import TuningBackend
from bot.config import Settings
from bot.datasets import Limits
from bot.datasets.pool import ValidationPool
from bot.polling.eval_requests import EvalRequestRunner
from bot.services.approval_decisions import ApprovalKeeper
from bot.slack.home import HomeTab
from bot.slack.reporter import SlackReporter
from bot.slack.spend import GroupMembers
from bot.storage.store import Store


@dataclass
class AppContext:
    settings: Settings
    store: Store
    backend: TuningBackend
    client: AsyncWebClient
    reporter: SlackReporter
    http: httpx.AsyncClient
    limits: Limits = field(default_factory=Limits)
    # Uploads are parsed and validated in worker processes (started on the first upload),
    # so they cannot starve the acks of the process's other requests.
    validation: ValidationPool = field(default_factory=ValidationPool)
    # Polls one job at once (the poller's `run_job`); set once the poller exists.
    poll_now: Callable[[int], Awaitable[bool]] | None = None
    # Stores and runs `/tune eval` requests (bot/polling/eval_requests.py); set once the poller exists.
    eval_requests: EvalRequestRunner | None = None
    # Approval requests' messages, expiry and clock (bot/services/approvals.py); set by the runtime.
    approvals: ApprovalKeeper | None = None
    # The App Home tab publisher; set by `build_app`.
    home: HomeTab | None = None
    # User groups' members, for a spend policy naming groups (bot/slack/spend.py).
    groups: GroupMembers = field(default_factory=GroupMembers)

    def home_changed(self, team_id: str) -> None:
        """Something the team's Home tabs show changed: redraw them (throttled)."""
        if self.home is not None:
            self.home.changed(team_id)

    @property
    def bot_token(self) -> str:
        token = self.settings.slack_bot_token
        return token.get_secret_value() if token is not None else ""

    @property
    def admins(self) -> frozenset[str]:
        return self.settings.admins
