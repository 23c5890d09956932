"""Messages (chat.*, conversations.history/replies), ephemerals, response_url, assistant status."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterable
from typing import Any, Literal

from standins.fakeslack.directory import DirectoryMixin
from standins.fakeslack.limits import RESPONSE_URL_MAX_USES, check_text, validate_blocks, validate_metadata
from standins.fakeslack.records import (
    DEFAULT_CHANNEL,
    AssistantStatus,
    Ephemeral,
    Message,
    MessageVersion,
    ResponseTarget,
    SlackError,
    WorkspaceEvent,
    _flag,
    _ts_key,
)


class ChatMixin(DirectoryMixin):
    """Messages, ephemerals, response_url posts and assistant status."""

    # ------------------------------------------------------------------ messages

    def post_message(
        self,
        channel: str,
        text: str | None = None,
        *,
        user: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
        files: Iterable[str] = (),
        reply_broadcast: bool = False,
        subtype: str | None = None,
    ) -> Message:
        """Post as the bot (default) or as `user`. Validates like chat.postMessage."""
        with self._lock:
            chan = self._require_channel(channel)
            as_bot = user is None or user == self.bot_user_id
            file_ids = list(files)
            if as_bot and not chan.bot_is_member and (chan.is_private or chan.is_im):
                raise SlackError("not_in_channel")
            if not text and not blocks and not file_ids:
                raise SlackError("no_text")
            check_text(text)
            if blocks is not None:
                blocks = copy.deepcopy(validate_blocks(blocks))
            if metadata is not None:
                metadata = validate_metadata(metadata)
            root: Message | None = None
            if thread_ts:
                root = self._messages[channel].get(thread_ts)
                if root is not None and root.is_reply and root.thread_ts:
                    thread_ts = root.thread_ts
                    root = self._messages[channel].get(thread_ts)
            ts = self.new_ts()
            message = Message(
                channel=channel,
                ts=ts,
                user=self.bot_user_id if as_bot else str(user),
                text=text or "",
                team=self.team_id,
                bot_id=self.bot_id if as_bot else None,
                app_id=self.app_id if as_bot else None,
                thread_ts=thread_ts or None,
                blocks=blocks,
                metadata=metadata,
                files=file_ids,
                subtype=subtype,
                reply_broadcast=reply_broadcast and bool(thread_ts),
            )
            message.versions.append(message.snapshot())
            self._messages[channel][ts] = message
            if root is not None:
                root.thread_ts = root.ts
                root.replies.append(ts)
            self._touch(WorkspaceEvent("message_posted", channel, ts, message.user, message))
            return message

    def post_user_message(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        thread_ts: str | None = None,
        files: Iterable[str] = (),
    ) -> Message:
        """What a person typing in Slack produces (no validation of blocks, no bot checks)."""
        file_ids = list(files)
        with self._lock:
            for file_id in file_ids:
                stored = self._files.get(file_id)
                if stored is not None and stored.channel is None:
                    stored.channel = channel
                    stored.thread_ts = thread_ts
            message = self.post_message(
                channel,
                text,
                user=user,
                thread_ts=thread_ts,
                files=file_ids,
                subtype="file_share" if file_ids else None,
            )
            for file_id in file_ids:
                stored = self._files.get(file_id)
                if stored is not None and stored.share_ts is None:
                    stored.share_ts = message.ts
            return message

    def _require_message(self, channel: str | None, ts: str | None) -> Message:
        chan = self._require_channel(channel)
        message = self._messages[chan.id].get(ts or "")
        if message is None or message.deleted:
            raise SlackError("message_not_found")
        return message

    def update_message(
        self,
        channel: str,
        ts: str,
        *,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        by: str | None = None,
    ) -> Message:
        """Edit a message (as the bot unless `by`); every version is kept in `message.versions`."""
        with self._lock:
            message = self._require_message(channel, ts)
            editor = by or self.bot_user_id
            if message.user != editor:
                raise SlackError("cant_update_message")
            check_text(text)
            if blocks is not None:
                blocks = copy.deepcopy(validate_blocks(blocks))
            if metadata is not None:
                metadata = validate_metadata(metadata)
            new_text = message.text if text is None else text
            new_blocks = message.blocks if blocks is None else (blocks or None)
            if not new_text and not new_blocks and not message.files:
                raise SlackError("no_text")
            message.text = new_text
            message.blocks = new_blocks
            if metadata is not None:
                message.metadata = metadata
            message.edited_ts = self.new_ts()
            message.versions.append(message.snapshot())
            self._touch(WorkspaceEvent("message_updated", channel, ts, message.user, message))
            return message

    def delete_message(self, channel: str, ts: str, *, by: str | None = None) -> Message:
        with self._lock:
            message = self._require_message(channel, ts)
            if message.user != (by or self.bot_user_id):
                raise SlackError("cant_delete_message")
            message.deleted = True
            self._touch(WorkspaceEvent("message_deleted", channel, ts, message.user, message))
            return message

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return self._messages.get(channel, {}).get(ts)

    def messages(
        self, channel: str = DEFAULT_CHANNEL, *, include_replies: bool = True, include_deleted: bool = False
    ) -> list[Message]:
        """Messages of `channel`, oldest first."""
        with self._lock:
            found = sorted(self._messages.get(channel, {}).values(), key=lambda m: _ts_key(m.ts))
            return [
                m
                for m in found
                if (include_deleted or not m.deleted)
                and (include_replies or not m.is_reply or m.reply_broadcast)
            ]

    def thread(self, channel: str, ts: str, *, include_deleted: bool = False) -> list[Message]:
        """The thread rooted at `ts` (or containing reply `ts`): root first, then replies by ts."""
        with self._lock:
            in_channel = self._messages.get(channel, {})
            message = in_channel.get(ts)
            if message is None:
                return []
            root_ts = message.thread_ts if message.is_reply and message.thread_ts else message.ts
            members = [m for m in in_channel.values() if m.ts == root_ts or m.thread_ts == root_ts]
            members.sort(key=lambda m: _ts_key(m.ts))
            return [m for m in members if include_deleted or not m.deleted]

    def bot_messages(self, channel: str = DEFAULT_CHANNEL) -> list[Message]:
        return [m for m in self.messages(channel) if m.user == self.bot_user_id]

    def message_to_api(self, message: Message, *, include_metadata: bool = True) -> dict[str, Any]:
        with self._lock:
            data: dict[str, Any] = {"type": "message"}
            if message.subtype:
                data["subtype"] = message.subtype
            data.update({"ts": message.ts, "user": message.user, "text": message.text, "team": message.team})
            if message.bot_id:
                data["bot_id"] = message.bot_id
                data["app_id"] = message.app_id
                data["bot_profile"] = {
                    "id": message.bot_id,
                    "app_id": message.app_id,
                    "name": self.bot_name,
                    "deleted": False,
                    "team_id": self.team_id,
                    "icons": {},
                }
            if message.blocks:
                data["blocks"] = copy.deepcopy(message.blocks)
            if message.files:
                data["files"] = [self._files[f].to_api() for f in message.files if f in self._files]
                data["upload"] = True
                data["display_as_bot"] = False
            if message.edited_ts:
                data["edited"] = {"user": message.user, "ts": message.edited_ts}
            if message.thread_ts:
                data["thread_ts"] = message.thread_ts
                if message.is_reply:
                    root = self._messages[message.channel].get(message.thread_ts)
                    if root is not None:
                        data["parent_user_id"] = root.user
                    if message.reply_broadcast:
                        data["subtype"] = "thread_broadcast"
                else:
                    replies = [
                        r
                        for r in (self._messages[message.channel].get(ts) for ts in message.replies)
                        if r is not None and not r.deleted
                    ]
                    data["reply_count"] = len(replies)
                    data["reply_users"] = sorted({r.user for r in replies})
                    data["reply_users_count"] = len(data["reply_users"])
                    data["latest_reply"] = replies[-1].ts if replies else message.ts
                    data["is_locked"] = False
                    data["subscribed"] = False
            if include_metadata and message.metadata:
                data["metadata"] = copy.deepcopy(message.metadata)
            return data

    def permalink(self, channel: str, ts: str) -> str:
        with self._lock:
            message = self._require_message(channel, ts)
            link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            if message.is_reply:
                link += f"?thread_ts={message.thread_ts}&cid={channel}"
            return link

    # ------------------------------------------------------------------ ephemeral

    def post_ephemeral(
        self,
        channel: str,
        user: str,
        text: str | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: Literal["api", "response_url"] = "api",
    ) -> Ephemeral:
        with self._lock:
            self._require_channel(channel)
            if user not in self._users:
                raise SlackError("user_not_in_channel")
            if not text and not blocks:
                raise SlackError("no_text")
            check_text(text)
            if blocks is not None:
                blocks = copy.deepcopy(validate_blocks(blocks))
            ts = self.new_ts()
            ephemeral = Ephemeral(channel, user, ts, text or "", blocks, thread_ts, source)
            ephemeral.versions.append(MessageVersion(ephemeral.text, copy.deepcopy(blocks), None, ts))
            self._ephemerals.append(ephemeral)
            self._touch(WorkspaceEvent("ephemeral_posted", channel, ts, user, ephemeral))
            return ephemeral

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        with self._lock:
            return [
                e
                for e in self._ephemerals
                if not e.deleted
                and (channel is None or e.channel == channel)
                and (user is None or e.user == user)
            ]

    def _ephemeral(self, channel: str, message_ts: str) -> Ephemeral | None:
        for ephemeral in self._ephemerals:
            if ephemeral.channel == channel and ephemeral.message_ts == message_ts:
                return ephemeral
        return None

    # ------------------------------------------------------------------ response_url

    def new_response_url(
        self, channel: str, user: str, *, message_ts: str | None = None, is_ephemeral: bool = False
    ) -> str:
        with self._lock:
            target = ResponseTarget(secrets.token_hex(8), channel, user, message_ts, is_ephemeral)
            self._responses[target.id] = target
            return f"{self.base_url}/response/{target.id}"

    def respond(self, response_id: str, body: dict[str, Any]) -> ResponseTarget:
        """Apply a POST to a response_url like Slack does."""
        with self._lock:
            target = self._responses.get(response_id)
            if target is None:
                raise SlackError("expired_url", status=404)
            if target.uses >= RESPONSE_URL_MAX_USES:
                raise SlackError("used_url", status=404)
            target.uses += 1
            target.posts.append(copy.deepcopy(body))
            text = body.get("text")
            blocks = body.get("blocks")
            thread_ts = body.get("thread_ts")
            original_ephemeral = (
                self._ephemeral(target.channel, target.message_ts)
                if target.message_ts and target.is_ephemeral
                else None
            )
            if _flag(body.get("delete_original")):
                if original_ephemeral is not None:
                    original_ephemeral.deleted = True
                    self._touch(
                        WorkspaceEvent(
                            "ephemeral_deleted",
                            target.channel,
                            target.message_ts,
                            target.user,
                            original_ephemeral,
                        )
                    )
                elif target.message_ts:
                    message = self._require_message(target.channel, target.message_ts)
                    message.deleted = True
                    self._touch(
                        WorkspaceEvent("message_deleted", target.channel, message.ts, message.user, message)
                    )
                return target
            if _flag(body.get("replace_original")) and target.message_ts:
                # Like Slack, a replacement replaces the whole message: no blocks means none.
                if original_ephemeral is not None:
                    check_text(text)
                    original_ephemeral.blocks = copy.deepcopy(validate_blocks(blocks)) if blocks else None
                    if text is not None:
                        original_ephemeral.text = str(text)
                    original_ephemeral.versions.append(
                        MessageVersion(
                            original_ephemeral.text,
                            copy.deepcopy(original_ephemeral.blocks),
                            None,
                            self.new_ts(),
                        )
                    )
                    self._touch(
                        WorkspaceEvent(
                            "ephemeral_updated",
                            target.channel,
                            target.message_ts,
                            target.user,
                            original_ephemeral,
                        )
                    )
                    return target
                message = self._require_message(target.channel, target.message_ts)
                self.update_message(
                    target.channel,
                    message.ts,
                    text=str(text) if text is not None else None,
                    blocks=blocks if blocks is not None else [],
                    by=message.user,
                )
                return target
            if body.get("response_type") == "in_channel":
                self.post_message(target.channel, text, blocks=blocks, thread_ts=thread_ts)
            else:
                self.post_ephemeral(
                    target.channel,
                    target.user,
                    text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    source="response_url",
                )
            return target

    def response_target(self, response_id_or_url: str) -> ResponseTarget | None:
        with self._lock:
            return self._responses.get(response_id_or_url.rstrip("/").rsplit("/", 1)[-1])

    # ------------------------------------------------------------------ assistant status

    def set_status(self, channel: str | None, thread_ts: str | None, status: Any) -> AssistantStatus:
        with self._lock:
            if not channel or not thread_ts or status is None:
                raise SlackError(
                    "invalid_arguments", messages=["channel_id, thread_ts and status are required"]
                )
            record = AssistantStatus(channel, thread_ts, str(status), time.time())
            self._statuses.append(record)
            self._touch(WorkspaceEvent("status_set", channel, thread_ts, None, record))
            return record

    def statuses(self, channel: str | None = None, thread_ts: str | None = None) -> list[AssistantStatus]:
        with self._lock:
            return [
                s
                for s in self._statuses
                if (channel is None or s.channel == channel)
                and (thread_ts is None or s.thread_ts == thread_ts)
            ]
