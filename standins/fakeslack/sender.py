"""Signed requests from "Slack" to the bot's HTTP endpoint.

`SlackRequestSender` builds what Slack sends to a Request URL (slash commands,
interactivity payloads, Events API envelopes), signs it the way Slack does
(`X-Slack-Signature: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")`) and posts it
with httpx. What the user typed is recorded in the `Workspace` first, and the
trigger_ids / response_urls it carries are registered there, so the bot's answers
land in the same workspace.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import secrets
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from standins.fakeslack.workspace import DEFAULT_CHANNEL, Message, View, Workspace


@dataclass(frozen=True)
class Forge:
    """Ways to make a request Slack would never send (for signature-verification tests)."""

    secret: str | None = None  # sign with this secret instead of the real one
    timestamp: int | None = None  # use this X-Slack-Request-Timestamp (e.g. 10 minutes old)
    body: bytes | None = None  # send this body (signed, unless `signature` is given)
    signature: str | None = None  # send this X-Slack-Signature verbatim
    omit_signature: bool = False  # send no signature headers at all
    headers: dict[str, str] = field(default_factory=dict)  # extra headers


@dataclass
class SentRequest:
    """The bot's answer to one request, plus what was sent."""

    response: httpx.Response
    elapsed: float  # seconds from sending until the response body was read
    body: bytes
    headers: dict[str, str]
    trigger_id: str | None = None
    response_url: str | None = None
    message: Message | None = None
    payload: dict[str, Any] | None = None

    @property
    def status_code(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.text

    def json(self) -> Any:
        return self.response.json()


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's v0 request signature."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackRequestSender:
    """Sends signed Slack requests to `{bot_url}/slack/events` (or `path`)."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        workspace: Workspace,
        *,
        path: str = "/slack/events",
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.bot_url = bot_url.rstrip("/")
        self.endpoint = self.bot_url + path
        self.signing_secret = signing_secret
        self.workspace = workspace
        self._client = client
        # one pooled client per event loop: the sender may be driven from several loops
        # (pytest's per-test loops, asyncio.run in the demo, the bot's own loop)
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._timeout = timeout

    def _http(self) -> httpx.AsyncClient:
        if self._client is not None:
            return self._client
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(timeout=self._timeout)
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the pooled connection of the running loop (a client passed in is left open)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> SlackRequestSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ plumbing

    def signed_headers(self, body: bytes, content_type: str, forge: Forge | None = None) -> dict[str, str]:
        forge = forge or Forge()
        timestamp = forge.timestamp if forge.timestamp is not None else int(time.time())
        headers = {"Content-Type": content_type, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        if not forge.omit_signature:
            headers["X-Slack-Request-Timestamp"] = str(timestamp)
            headers["X-Slack-Signature"] = forge.signature or sign(
                forge.secret if forge.secret is not None else self.signing_secret, timestamp, body
            )
        headers.update(forge.headers)
        return headers

    async def send(
        self,
        body: bytes,
        content_type: str,
        *,
        forge: Forge | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> SentRequest:
        """POST `body` (or `forge.body`) signed to the bot endpoint."""
        if forge is not None and forge.body is not None:
            body = forge.body
        headers = self.signed_headers(body, content_type, forge)
        if extra_headers:
            headers.update(extra_headers)
        started = time.perf_counter()
        response = await self._http().post(self.endpoint, content=body, headers=headers)
        await response.aread()
        elapsed = time.perf_counter() - started
        return SentRequest(response=response, elapsed=elapsed, body=body, headers=headers)

    async def _send_form(self, fields: dict[str, str], forge: Forge | None) -> SentRequest:
        return await self.send(urlencode(fields).encode(), "application/x-www-form-urlencoded", forge=forge)

    def _user_obj(self, user_id: str) -> dict[str, Any]:
        user = self.workspace.ensure_user(user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": self.workspace.team_id}

    def _team_obj(self) -> dict[str, Any]:
        return {"id": self.workspace.team_id, "domain": self.workspace.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        channel = self.workspace.channel(channel_id)
        if channel is None:
            return channel_id.lower()
        return "directmessage" if channel.is_im else channel.name

    # ------------------------------------------------------------------ slash commands

    async def slash_command(
        self,
        user_id: str,
        text: str,
        command: str = "/tune",
        channel_id: str = DEFAULT_CHANNEL,
        *,
        forge: Forge | None = None,
    ) -> SentRequest:
        ws = self.workspace
        user = ws.ensure_user(user_id)
        trigger_id = ws.new_trigger(user_id)
        response_url = ws.new_response_url(channel_id, user_id)
        fields = {
            "token": ws.verification_token,
            "team_id": ws.team_id,
            "team_domain": ws.team_domain,
            "channel_id": channel_id,
            "channel_name": self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": ws.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        sent = await self._send_form(fields, forge)
        sent.trigger_id = trigger_id
        sent.response_url = response_url
        sent.payload = dict(fields)
        return sent

    # ------------------------------------------------------------------ interactivity

    async def block_action(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        channel_id: str = DEFAULT_CHANNEL,
        message_ts: str | None = None,
        container: dict[str, Any] | None = None,
        response_url: str | None = None,
        *,
        block_id: str | None = None,
        action_type: str = "button",
        selected_option: dict[str, Any] | None = None,
        is_ephemeral: bool = False,
        view: dict[str, Any] | View | None = None,
        state_values: dict[str, Any] | None = None,
        forge: Forge | None = None,
    ) -> SentRequest:
        """A click (button, select…) in a message (`message_ts`), an ephemeral message
        (`is_ephemeral=True`) or a modal (`view`)."""
        ws = self.workspace
        trigger_id = ws.new_trigger(user_id)
        message_api: dict[str, Any] | None = None
        view_api: dict[str, Any] = {}
        blocks: list[dict[str, Any]] = []
        if view is not None:
            view_api = view.to_api() if isinstance(view, View) else copy.deepcopy(view)
            if state_values is not None:
                view_api.setdefault("state", {})["values"] = normalize_state(state_values)
            blocks = list(view_api.get("blocks") or [])
        elif message_ts is not None and not is_ephemeral:
            found = ws.message(channel_id, message_ts)
            if found is not None:
                message_api = ws.message_to_api(found)
                blocks = list(found.blocks or [])
        elif message_ts is not None:
            ephemeral = next((e for e in ws.ephemerals(channel_id) if e.message_ts == message_ts), None)
            if ephemeral is not None:
                blocks = list(ephemeral.blocks or [])
        if block_id is None:
            block_id = find_block_id(blocks, action_id) or "fake_block"
        if container is None:
            if view is not None:
                container = {"type": "view", "view_id": view_api["id"]}
            else:
                container = {
                    "type": "message",
                    "message_ts": message_ts,
                    "channel_id": channel_id,
                    "is_ephemeral": is_ephemeral,
                }
        if response_url is None and view is None:
            response_url = ws.new_response_url(
                channel_id, user_id, message_ts=message_ts, is_ephemeral=is_ephemeral
            )
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": action_type,
            "action_ts": ws.new_ts(),
        }
        if action_type == "button":
            action["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
            if value is not None:
                action["value"] = value
        elif selected_option is not None or value is not None:
            action["selected_option"] = selected_option or {
                "text": {"type": "plain_text", "text": value, "emoji": True},
                "value": value,
            }
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_obj(user_id),
            "api_app_id": ws.app_id,
            "token": ws.verification_token,
            "container": container,
            "trigger_id": trigger_id,
            "team": self._team_obj(),
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is not None:
            payload["view"] = view_api
            payload["state"] = view_api.get("state", {"values": {}})
        else:
            payload["channel"] = {"id": channel_id, "name": self._channel_name(channel_id)}
            payload["state"] = {"values": normalize_state(state_values or {})}
            payload["response_url"] = response_url
            if message_api is not None:
                payload["message"] = message_api
        sent = await self._send_form({"payload": json.dumps(payload)}, forge)
        sent.trigger_id = trigger_id
        sent.response_url = response_url
        sent.payload = payload
        return sent

    async def view_submission(
        self,
        user_id: str,
        view: dict[str, Any] | View,
        values: dict[str, Any],
        *,
        apply_response: bool = True,
        forge: Forge | None = None,
    ) -> SentRequest:
        """Submit a modal. `values` is `{block_id: {action_id: value}}` where a value is
        either a string (a plain_text_input) or the full Slack element state dict.

        With `apply_response`, the bot's ack is applied to the workspace like the Slack
        client would: `response_action` update/push change the view stack, errors leave
        the modal open, anything else closes it."""
        ws = self.workspace
        view_api = view.to_api() if isinstance(view, View) else copy.deepcopy(view)
        state = normalize_state(values)
        view_api["state"] = {"values": state}
        view_id = str(view_api.get("id", ""))
        if ws.view(view_id) is not None:
            ws.set_view_state(view_id, state)
        trigger_id = ws.new_trigger(user_id)
        payload: dict[str, Any] = {
            "type": "view_submission",
            "team": self._team_obj(),
            "user": self._user_obj(user_id),
            "api_app_id": ws.app_id,
            "token": ws.verification_token,
            "trigger_id": trigger_id,
            "view": view_api,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        sent = await self._send_form({"payload": json.dumps(payload)}, forge)
        sent.trigger_id = trigger_id
        sent.payload = payload
        if apply_response and sent.status_code == 200 and ws.view(view_id) is not None:
            self._apply_submission_ack(view_id, sent)
        return sent

    def _apply_submission_ack(self, view_id: str, sent: SentRequest) -> None:
        ws = self.workspace
        ack: Any = None
        if sent.response.content.strip():
            try:
                ack = sent.response.json()
            except ValueError:
                ack = None
        action = ack.get("response_action") if isinstance(ack, dict) else None
        if action == "errors":
            return
        if action == "update" and isinstance(ack, dict):
            ws.update_view(ack.get("view"), view_id=view_id)
        elif action == "push" and isinstance(ack, dict):
            ws.push_view(ws.new_trigger(sent.payload["user"]["id"] if sent.payload else ""), ack.get("view"))
        elif action == "clear":
            ws.close_view(view_id, all_views=True)
        else:
            ws.close_view(view_id)

    async def view_closed(
        self, user_id: str, view: dict[str, Any] | View, *, forge: Forge | None = None
    ) -> SentRequest:
        ws = self.workspace
        view_api = view.to_api() if isinstance(view, View) else copy.deepcopy(view)
        ws.close_view(str(view_api.get("id", "")))
        payload = {
            "type": "view_closed",
            "team": self._team_obj(),
            "user": self._user_obj(user_id),
            "api_app_id": ws.app_id,
            "token": ws.verification_token,
            "view": view_api,
            "is_cleared": False,
            "is_enterprise_install": False,
        }
        sent = await self._send_form({"payload": json.dumps(payload)}, forge)
        sent.payload = payload
        return sent

    # ------------------------------------------------------------------ Events API

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        ws = self.workspace
        return {
            "token": ws.verification_token,
            "team_id": ws.team_id,
            "context_team_id": ws.team_id,
            "api_app_id": ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": ws.team_id,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_hex(12),
        }

    async def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        forge: Forge | None = None,
    ) -> SentRequest:
        """Deliver `event` in an event_callback envelope (set `retry_num` to mimic Slack's retries)."""
        envelope = self.envelope(event, event_id)
        extra = None
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        sent = await self.send(
            json.dumps(envelope).encode(), "application/json", forge=forge, extra_headers=extra
        )
        sent.payload = envelope
        return sent

    async def message(
        self,
        user_id: str,
        channel: str,
        text: str,
        thread_ts: str | None = None,
        files: list[dict[str, Any] | str] | None = None,
        *,
        event_id: str | None = None,
        forge: Forge | None = None,
    ) -> SentRequest | None:
        """The user posts `text` (and `files`, dicts from `add_file` or ids): it is recorded in
        the workspace, then sent as a `message` event, or `app_mention` when it mentions the bot.
        None when nothing is sent: Slack sends no events from conversations the bot is not in."""
        ws = self.workspace
        ws.ensure_user(user_id)
        file_ids = [f if isinstance(f, str) else str(f["id"]) for f in files or []]
        posted = ws.post_user_message(user_id, channel, text, thread_ts=thread_ts, files=file_ids)
        chan = ws.channel(channel)
        mention = f"<@{ws.bot_user_id}>" in text
        event: dict[str, Any] = {
            "type": "app_mention" if mention else "message",
            "user": user_id,
            "text": text,
            "ts": posted.ts,
            "team": ws.team_id,
            "channel": channel,
            "event_ts": posted.ts,
        }
        if not mention:
            event["channel_type"] = (
                "im"
                if chan is not None and chan.is_im
                else ("group" if chan is not None and chan.is_private else "channel")
            )
        if posted.thread_ts:
            event["thread_ts"] = posted.thread_ts
        if file_ids:
            if not mention:
                event["subtype"] = "file_share"
            event["files"] = [stored.to_api() for fid in file_ids if (stored := ws.file(fid)) is not None]
            event["upload"] = False
            event["display_as_bot"] = False
        if chan is not None and not chan.bot_is_member:
            # Slack sends message events (and mentions) only from conversations the bot is in.
            return None
        sent = await self.event(event, event_id, forge=forge)
        sent.message = posted
        return sent

    async def app_home_opened(
        self, user_id: str, *, event_id: str | None = None, forge: Forge | None = None
    ) -> SentRequest:
        """The user opens the app's Home tab (with the view last published for them, if any)."""
        ws = self.workspace
        ws.ensure_user(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D" + user_id[1:],
            "tab": "home",
            "event_ts": ws.new_ts(),
        }
        published = ws.home_view(user_id)
        if published is not None:
            event["view"] = published.to_api()
        return await self.event(event, event_id, forge=forge)

    async def url_verification(
        self, challenge: str = "fake-challenge", *, forge: Forge | None = None
    ) -> SentRequest:
        body = {
            "token": self.workspace.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }
        sent = await self.send(json.dumps(body).encode(), "application/json", forge=forge)
        sent.payload = body
        return sent


# --------------------------------------------------------------------------- helpers


def normalize_state(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{block: {action: "text"}}` -> Slack's `state.values` shape (dict values kept as they are)."""
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in values.items():
        state[block_id] = {}
        for action_id, value in dict(actions).items():
            if isinstance(value, dict):
                state[block_id][action_id] = copy.deepcopy(value)
            else:
                state[block_id][action_id] = {"type": "plain_text_input", "value": value}
    return state


def find_block_id(blocks: list[dict[str, Any]], action_id: str) -> str | None:
    """The block_id of the block holding the element with `action_id`."""
    for block in blocks:
        elements: list[Any] = []
        if isinstance(block.get("elements"), list):
            elements.extend(block["elements"])
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        if any(isinstance(e, dict) and e.get("action_id") == action_id for e in elements):
            return str(block.get("block_id")) if block.get("block_id") else None
    return None
