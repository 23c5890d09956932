"""What a listener receives: one request object per kind of Slack request, and Bolt's
`ack`/`respond` typed as plain async callables (so a test can pass fakes that record calls).

Each listener is `async def handler(ctx: AppContext, request: <Kind>Request) -> None`; the
registration code (`register` in each package) adapts Bolt's keyword arguments to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.slack.commands import split_command
from bot.slack.context import AppContext

# Bolt's AsyncAck and AsyncRespond, or anything called the same way (keyword arguments only).
Ack = Callable[..., Awaitable[object]]
Respond = Callable[..., Awaitable[object]]


class OnceAck:
    """Bolt's ack, remembering whether it was already called (the answer to Slack is sent then):
    an error raised after the ack goes to `respond` instead."""

    def __init__(self, ack: Ack) -> None:
        self._ack = ack
        self.done = False

    async def __call__(self, **kwargs: Any) -> None:
        if not self.done:
            self.done = True
            await self._ack(**kwargs)


@dataclass(frozen=True)
class CommandRequest:
    """One `/tune` command: its subcommand, the words after it, and who typed it where."""

    ack: OnceAck
    respond: Respond
    payload: dict[str, Any]
    name: str
    rest: str

    @classmethod
    def from_payload(cls, payload: dict[str, Any], *, ack: Ack, respond: Respond) -> CommandRequest:
        parsed = split_command(payload.get("text", ""))
        return cls(ack=OnceAck(ack), respond=respond, payload=payload, name=parsed.name, rest=parsed.rest)

    @property
    def team_id(self) -> str:
        return str(self.payload.get("team_id", ""))

    @property
    def user_id(self) -> str:
        return str(self.payload["user_id"])

    @property
    def channel_id(self) -> str:
        return str(self.payload["channel_id"])

    @property
    def trigger_id(self) -> str:
        return str(self.payload["trigger_id"])


class _InteractionBody:
    """Who clicked or submitted, read from an interaction payload's `body`."""

    body: dict[str, Any]

    @property
    def team_id(self) -> str:
        return str((self.body.get("team") or {}).get("id", ""))

    @property
    def user_id(self) -> str:
        return str(self.body["user"]["id"])


@dataclass(frozen=True)
class ActionRequest(_InteractionBody):
    """A click on a button (in a message or the Home tab)."""

    ack: Ack
    respond: Respond
    body: dict[str, Any]
    action: dict[str, Any]

    @property
    def value(self) -> str:
        return str(self.action.get("value") or "")


@dataclass(frozen=True)
class ViewRequest(_InteractionBody):
    """A modal's submission."""

    ack: Ack
    body: dict[str, Any]
    view: dict[str, Any]


@dataclass(frozen=True)
class EventRequest:
    """An Events API delivery (Bolt acknowledges events itself)."""

    body: dict[str, Any]
    event: dict[str, Any]

    @property
    def team_id(self) -> str:
        return str(self.body.get("team_id") or self.event.get("team", ""))


CommandHandler = Callable[[AppContext, CommandRequest], Awaitable[None]]
ActionHandler = Callable[[AppContext, ActionRequest], Awaitable[None]]
ViewHandler = Callable[[AppContext, ViewRequest], Awaitable[None]]
EventHandler = Callable[[AppContext, EventRequest], Awaitable[None]]
