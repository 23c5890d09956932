"""Users and channels (users.*, conversations.info/join/open), and the app's scopes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from standins.fakeslack.records import Channel, SlackError, User
from standins.fakeslack.state import WorkspaceState

# The bot scopes the fake checks: a method that needs one the app was not installed with
# answers `missing_scope` (files.info and file downloads need files:read; conversations.open
# on a DM needs im:write). `missing_scopes` holds those the installed app lacks.
CHECKED_SCOPES = frozenset({"files:read", "im:write", "usergroups:read"})


class DirectoryMixin(WorkspaceState):
    """Users and channels the workspace knows."""

    # conversations.open calls still to answer `{"ok": true}` without a channel.
    _opens_without_channel: int = 0

    # ------------------------------------------------------------------ the app's scopes

    def install(self, scopes: Iterable[str]) -> None:
        """Install the app with these bot scopes (manifest.yml's `oauth_config.scopes.bot`):
        every checked scope not among them is missing from then on."""
        with self._lock:
            self.missing_scopes = set(CHECKED_SCOPES - set(scopes))
            self._touch()

    # ------------------------------------------------------------------ directory

    def add_user(
        self,
        user_id: str,
        name: str,
        is_admin: bool = False,
        *,
        real_name: str = "",
        is_bot: bool = False,
        tz: str = "Europe/London",
    ) -> User:
        with self._lock:
            user = User(
                user_id, name, self.team_id, is_admin=is_admin, is_bot=is_bot, real_name=real_name, tz=tz
            )
            self._users[user_id] = user
            self._touch()
            return user

    def ensure_user(self, user_id: str, name: str | None = None) -> User:
        """The user `user_id`, added (named after the id) if unknown."""
        with self._lock:
            existing = self._users.get(user_id)
            if existing is not None:
                return existing
            return self.add_user(user_id, name or user_id.lower())

    def user(self, user_id: str) -> User | None:
        with self._lock:
            return self._users.get(user_id)

    @property
    def users(self) -> list[User]:
        with self._lock:
            return list(self._users.values())

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        is_private: bool = False,
        is_im: bool = False,
        bot_is_member: bool = True,
        im_user: str | None = None,
    ) -> Channel:
        with self._lock:
            channel = Channel(
                channel_id,
                name,
                is_private=is_private,
                is_im=is_im,
                bot_is_member=bot_is_member,
                im_user=im_user,
            )
            self._channels[channel_id] = channel
            self._messages.setdefault(channel_id, {})
            self._touch()
            return channel

    def channel(self, channel_id: str) -> Channel | None:
        with self._lock:
            return self._channels.get(channel_id)

    @property
    def channels(self) -> list[Channel]:
        with self._lock:
            return list(self._channels.values())

    def _require_channel(self, channel_id: str | None) -> Channel:
        if not channel_id:
            raise SlackError("channel_not_found")
        channel = self._channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def join(self, channel_id: str) -> tuple[Channel, bool]:
        """The bot joins; returns (channel, already_member)."""
        with self._lock:
            channel = self._require_channel(channel_id)
            if (channel.is_im or channel.is_private) and not channel.bot_is_member:
                raise SlackError("method_not_supported_for_channel_type")
            already = channel.bot_is_member
            channel.bot_is_member = True
            self._touch()
            return channel, already

    # ------------------------------------------------------------------ membership

    def add_members(self, channel_id: str, *user_ids: str) -> None:
        """People join a channel (what users.conversations answers)."""
        with self._lock:
            self._require_channel(channel_id).members.update(user_ids)
            self._touch()

    def user_conversations(self, user_id: str | None, types: str | None) -> list[Channel]:
        """users.conversations with a bot token: the public channels `user_id` is in, and the
        private ones the bot is in too, oldest first. Refused like Slack: `user_not_found`."""
        with self._lock:
            if not user_id or user_id not in self._users:
                raise SlackError("user_not_found")
            wanted = {t.strip() for t in (types or "public_channel").split(",") if t.strip()}
            unknown = wanted - {"public_channel", "private_channel", "mpim", "im"}
            if unknown:
                raise SlackError("invalid_types")
            found = []
            for channel in self._channels.values():
                if channel.is_im or user_id not in channel.members:
                    continue
                if channel.is_private and ("private_channel" not in wanted or not channel.bot_is_member):
                    continue
                if not channel.is_private and "public_channel" not in wanted:
                    continue
                found.append(channel)
            return sorted(found, key=lambda c: (c.created, c.id))

    def add_usergroup(self, group_id: str, *user_ids: str) -> None:
        """A user group (an `S…` id) and its members."""
        with self._lock:
            self._usergroups[group_id] = list(user_ids)
            self._touch()

    def usergroup_users(self, group_id: str | None) -> list[str]:
        """usergroups.users.list: the group's members. Refused like Slack: `missing_scope`
        without usergroups:read, `invalid_arguments` without a group, `no_such_subteam`."""
        with self._lock:
            if "usergroups:read" in self.missing_scopes:
                raise SlackError("missing_scope")
            if not group_id:
                raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: usergroup"])
            if group_id not in self._usergroups:
                raise SlackError("no_such_subteam")
            return list(self._usergroups[group_id])

    def open_im(self, user_id: str) -> Channel:
        """The bot's DM with `user_id`, opened if needed (its id is "D" + the user id's tail)."""
        with self._lock:
            im_id = "D" + user_id[1:]
            existing = self._channels.get(im_id)
            if existing is not None:
                return existing
            return self.add_channel(im_id, user_id, is_im=True, im_user=user_id)

    def open_without_channel(self, times: int = 1) -> None:
        """The next `times` conversations.open calls answer `{"ok": true}` and no `channel`
        (a stand-in for Slack once did; a client must not take the channel for granted)."""
        with self._lock:
            self._opens_without_channel += times

    def open_conversation(self, users: str | None) -> dict[str, Any]:
        """conversations.open for one user: the bot's DM with them, as Slack answers it.

        Refused like Slack: `missing_scope` without im:write, `user_not_found`,
        `cannot_dm_bot` for a bot user; several users (a group DM) are not implemented."""
        with self._lock:
            if "im:write" in self.missing_scopes:
                raise SlackError("missing_scope")
            wanted = [u.strip() for u in (users or "").split(",") if u.strip()]
            if len(wanted) != 1:
                raise SlackError("invalid_arguments" if not wanted else "not_implemented")
            user = self._users.get(wanted[0])
            if user is None:
                raise SlackError("user_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            channel = self.open_im(user.id)
            if self._opens_without_channel > 0:
                self._opens_without_channel -= 1
                return {"ok": True}
            return {"ok": True, "channel": {"id": channel.id}}
