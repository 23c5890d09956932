"""A fake Slack (Web API + workspace + signed request sender) for tests, the demo and benchmarks.

>>> with FakeSlack().serve() as fake:
...     client = AsyncWebClient(token=fake.workspace.bot_token, base_url=fake.api_url)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from standins.fakeslack.sender import Forge, SentRequest, SlackRequestSender, sign
from standins.fakeslack.server import create_app
from standins.fakeslack.workspace import (
    DEFAULT_CHANNEL,
    AssistantStatus,
    Channel,
    Download,
    Ephemeral,
    Message,
    MessageVersion,
    RecordedCall,
    SlackError,
    StoredFile,
    User,
    View,
    Workspace,
    WorkspaceEvent,
)
from standins.loopback import BackgroundServer

__all__ = [
    "DEFAULT_CHANNEL",
    "AssistantStatus",
    "Channel",
    "Download",
    "Ephemeral",
    "FakeSlack",
    "Forge",
    "Message",
    "MessageVersion",
    "RecordedCall",
    "SentRequest",
    "SlackError",
    "SlackRequestSender",
    "StoredFile",
    "User",
    "View",
    "Workspace",
    "WorkspaceEvent",
    "create_app",
    "sign",
]


class FakeSlack:
    """A `Workspace` served over HTTP on 127.0.0.1 (in a daemon thread)."""

    def __init__(self, workspace: Workspace | None = None, *, port: int | None = None) -> None:
        self.workspace = workspace or Workspace()
        self._server = BackgroundServer(create_app(self.workspace), port=port)
        # known before start: file URLs and upload/response URLs point at this server
        self.workspace.base_url = self._server.url

    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (no trailing slash)."""
        return self._server.url

    @property
    def api_url(self) -> str:
        """The Web API base, for slack_sdk's `base_url` / SLACK_API_URL (ends with "/api/")."""
        return self._server.url + "/api/"

    @property
    def bot_token(self) -> str:
        return self.workspace.bot_token

    def start(self) -> FakeSlack:
        self._server.start()
        return self

    def request_stop(self) -> None:
        self._server.request_stop()

    def stop(self) -> None:
        self._server.stop()

    @contextmanager
    def serve(self) -> Iterator[FakeSlack]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def sender(self, bot_url: str, signing_secret: str, *, path: str = "/slack/events") -> SlackRequestSender:
        """A `SlackRequestSender` to the bot at `bot_url` sharing this workspace."""
        return SlackRequestSender(bot_url, signing_secret, self.workspace, path=path)
