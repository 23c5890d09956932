"""Workspace events, copied into what the demo's terminal shows of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from standins.fakeslack import Ephemeral, Message, MessageVersion, View, WorkspaceEvent

USER_ID = "U0YOU"


@dataclass(frozen=True)
class Change:
    """What a workspace event showed, copied when it happened (the objects keep changing)."""

    kind: str
    key: tuple[str, str, str]  # ("m" | "e" | "v", channel, ts or view id)
    user: str
    ts: str
    thread_ts: str | None
    in_thread: bool
    broadcast: bool
    version: MessageVersion | None
    previous: MessageVersion | None = None
    view: dict[str, Any] | None = None


UPDATE_KINDS = ("message_updated", "ephemeral_updated", "view_updated")


def snapshot(event: WorkspaceEvent) -> Change | None:
    """The part of `event` the terminal shows, or None when it shows nothing (runs under the
    workspace lock: quick, no I/O)."""
    payload = event.payload
    if isinstance(payload, Message) and event.kind.startswith("message_"):
        return Change(
            kind=event.kind,
            key=("m", payload.channel, payload.ts),
            user=payload.user,
            ts=payload.ts,
            thread_ts=payload.thread_ts,
            in_thread=payload.is_reply,
            broadcast=payload.reply_broadcast,
            version=payload.versions[-1] if payload.versions else None,
        )
    if isinstance(payload, Ephemeral) and event.kind.startswith("ephemeral_") and payload.user == USER_ID:
        return Change(
            kind=event.kind,
            key=("e", payload.channel, payload.message_ts),
            user=payload.user,
            ts=payload.message_ts,
            thread_ts=payload.thread_ts,
            in_thread=payload.thread_ts is not None,
            broadcast=False,
            version=payload.versions[-1] if payload.versions else None,
            previous=payload.versions[-2] if len(payload.versions) > 1 else None,
        )
    if isinstance(payload, View) and event.kind in ("view_opened", "view_pushed", "view_updated"):
        if payload.user_id != USER_ID or payload.type != "modal":
            return None
        return Change(
            kind=event.kind,
            key=("v", "", payload.id),
            user=payload.user_id,
            ts="",
            thread_ts=None,
            in_thread=False,
            broadcast=False,
            version=None,
            view=payload.to_api(),
        )
    return None
