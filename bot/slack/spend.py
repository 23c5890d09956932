"""What the spend policy and the bill ask Slack (issue #22): who is in a user group
(`usergroups.users.list`, scope usergroups:read) and which channels a person is in
(`users.conversations`, scopes channels:read and groups:read).

Group members are kept for `GROUP_TTL_SECONDS`, so a start answers within Slack's 3 seconds
without asking Slack each time. A group Slack will not list (unknown, a missing scope) counts
as having no members: nobody starts through it, and the log says why."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.domain.policy import Month, month_of
from bot.presentation.blocks import Block
from bot.presentation.spend_home import home_spend_blocks
from bot.services.spend import Bill, load_bill, team_policy
from bot.storage.models import utcnow
from bot.storage.store import Store

log = logging.getLogger(__name__)

GROUP_TTL_SECONDS = 60.0
GROUP_TIMEOUT_SECONDS = 1.5
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "request_timeout", "service_unavailable"}
)
CHANNEL_PAGE = 200
MAX_CHANNEL_PAGES = 20


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error"))
    return type(exc).__name__


class GroupMembers:
    """User groups' members, cached for a short while. Slack's answer must come within
    `timeout` seconds (a start is acknowledged within Slack's 3): a slow or failing Slack
    (rate limited, 5xx, a broken connection) makes the members unknown (None), never cached;
    a group Slack says it does not know (or will not show: a missing scope) has no members."""

    def __init__(
        self,
        ttl: float = GROUP_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = GROUP_TIMEOUT_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.timeout = timeout
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def forget(self) -> None:
        self._members.clear()

    async def members(self, client: AsyncWebClient, group_id: str) -> frozenset[str] | None:
        now = self.clock()
        cached = self._members.get(group_id)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            answer = await asyncio.wait_for(client.usergroups_users_list(usergroup=group_id), self.timeout)
            users = frozenset(str(user) for user in answer.get("users") or [])
        except SlackApiError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status == 429 or status >= 500 or _error(exc) in TRANSIENT_ERRORS:
                log.warning("usergroups.users.list on %s failed (%s)", group_id, _error(exc))
                return None
            log.warning(
                "usergroups.users.list on %s refused (%s): nobody starts through it", group_id, _error(exc)
            )
            users = frozenset()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("usergroups.users.list on %s failed (%s)", group_id, _error(exc))
            return None
        self._members[group_id] = (now, users)
        return users

    async def groups_of(
        self, client: AsyncWebClient, user_id: str, groups: Iterable[str]
    ) -> frozenset[str] | None:
        """Those of `groups` that `user_id` is a member of; None when Slack did not say in time
        and they are in none of the groups it did list."""
        found: set[str] = set()
        unknown = False
        for group in sorted(groups):
            members = await self.members(client, group)
            if members is None:
                unknown = True
            elif user_id in members:
                found.add(group)
        return None if unknown and not found else frozenset(found)


async def member_channels(client: AsyncWebClient, user_id: str) -> frozenset[str] | None:
    """The public and private channels `user_id` is in (as far as the bot may see them); None
    when Slack will not say."""
    found: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_CHANNEL_PAGES):
        try:
            answer = await client.users_conversations(
                user=user_id,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=CHANNEL_PAGE,
                cursor=cursor,
            )
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("users.conversations for %s failed (%s)", user_id, _error(exc))
            return None
        found.update(str(c.get("id")) for c in answer.get("channels") or [] if c.get("id"))
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return frozenset(found)


async def viewer_bill(
    client: AsyncWebClient, store: Store, settings: Settings, team_id: str, user_id: str, month: Month
) -> Bill:
    """The bill `user_id` may see: everyone's for an admin (TUNEBOT_ADMINS), else theirs and
    their channels' (as Slack says which channels they are in)."""
    admin = user_id in settings.admins
    member_of = None if admin else await member_channels(client, user_id)
    return await store.run(
        load_bill,
        store,
        team_id=team_id,
        month=month,
        viewer=user_id,
        admin=admin,
        member_of=member_of,
        currency=settings.price_currency,
    )


async def home_sections(
    client: AsyncWebClient, store: Store, settings: Settings, team_id: str, user_id: str
) -> list[Block]:
    """The Home tab's spend sections: the month's bill, and for an admin the policy (none, and
    one log line, when they cannot be read: the rest of the tab is still drawn)."""
    try:
        return await _home_sections(client, store, settings, team_id, user_id)
    except Exception:
        log.exception("could not draw the spend sections of %s's Home tab", user_id)
        return []


async def _home_sections(
    client: AsyncWebClient, store: Store, settings: Settings, team_id: str, user_id: str
) -> list[Block]:
    bill = await viewer_bill(client, store, settings, team_id, user_id, month_of(utcnow(), settings.zone))
    team = None
    if user_id in settings.admins:
        team = await store.run(team_policy, store, team_id, settings.spend_policy())
    return home_spend_blocks(bill, team=team, zone=settings.time_zone)


async def policy_approvers(store: Store, settings: Settings, team_id: str) -> frozenset[str]:
    """Who approves in `team_id`: the approvers of its policy in force (TUNEBOT_APPROVERS until
    an admin changes them with `/tune policy set approvers …`): user ids, or one channel id."""
    team = await store.run(team_policy, store, team_id, settings.spend_policy())
    return team.policy.approvers
