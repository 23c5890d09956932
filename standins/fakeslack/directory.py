"""Users and channels (users.*, conversations.info/join)."""

from __future__ import annotations

from standins.fakeslack.records import Channel, SlackError, User
from standins.fakeslack.state import WorkspaceState


class DirectoryMixin(WorkspaceState):
    """Users and channels the workspace knows."""

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
