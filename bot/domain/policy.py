"""A spend policy as people write it (issue #22): the settings' syntax, which `/tune policy set`
takes too, read into `SpendPolicy` values and written back; and calendar months in the
workspace's time zone. Pure: every mistake is a `PolicyValueError` naming what is accepted.

    starters        everyone | users:U1,U2 | groups:S1,S2 | channels:C1,C2
    approval_above  an amount (50, 50.00, USD 50) | none
    budget_per_user, budget_per_channel
                    an amount | none
    over_budget     refuse | approve
    approvers       users:U1,U2 | channel:C1 | none

Ids may be given as Slack writes them in messages (`<@U1>`, `<#C1|name>`, `<!subteam^S1>`).
Amounts are in the policy's currency, to the cent, and never negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.spend import OverBudget, SpendPolicy, Starters


class PolicyValueError(ValueError):
    """A policy value that cannot be read; the message says what is accepted."""


class PolicyKey(StrEnum):
    """What `/tune policy set <key> <value>` changes (the settings' names, shortened)."""

    STARTERS = "starters"
    APPROVAL_ABOVE = "approval_above"
    BUDGET_PER_USER = "budget_per_user"
    BUDGET_PER_CHANNEL = "budget_per_channel"
    OVER_BUDGET = "over_budget"
    APPROVERS = "approvers"


KEY_ALIASES: dict[str, PolicyKey] = {
    **{key.value: key for key in PolicyKey},
    "who": PolicyKey.STARTERS,
    "approval": PolicyKey.APPROVAL_ABOVE,
    "user_budget": PolicyKey.BUDGET_PER_USER,
    "monthly_budget_per_user": PolicyKey.BUDGET_PER_USER,
    "channel_budget": PolicyKey.BUDGET_PER_CHANNEL,
    "monthly_budget_per_channel": PolicyKey.BUDGET_PER_CHANNEL,
    "approver": PolicyKey.APPROVERS,
}

# The setting that gives each key its first value.
SETTING_OF: dict[PolicyKey, str] = {
    PolicyKey.STARTERS: "TUNEBOT_STARTERS",
    PolicyKey.APPROVAL_ABOVE: "TUNEBOT_APPROVAL_ABOVE",
    PolicyKey.BUDGET_PER_USER: "TUNEBOT_MONTHLY_BUDGET_PER_USER",
    PolicyKey.BUDGET_PER_CHANNEL: "TUNEBOT_MONTHLY_BUDGET_PER_CHANNEL",
    PolicyKey.OVER_BUDGET: "TUNEBOT_OVER_BUDGET",
    PolicyKey.APPROVERS: "TUNEBOT_APPROVERS",
}

# What each key takes, in plain words (messages carry no mrkdwn: whoever shows one escapes it).
STARTERS_SYNTAX = "everyone, users:U1,U2, groups:S1,S2 or channels:C1,C2"
APPROVERS_SYNTAX = "users:U1,U2, channel:C1 or none"
AMOUNT_SYNTAX = "an amount such as 50 or 49.99 (at most two decimals, not negative), or none"
OVER_BUDGET_SYNTAX = "refuse or approve"
NONE_WORDS = frozenset({"none", "no", "off", "unlimited", "-", ""})
CENT = Decimal("0.01")

# Slack's own ways of writing an id in a message: <@U1>, <@U1|name>, <#C1|name>, <!subteam^S1|@x>.
_SLACK_REF = re.compile(r"^<(?:@|#|!subteam\^)([A-Z0-9]+)(?:\|[^>]*)?>$")
_ID = re.compile(r"^[A-Z0-9]{2,32}$")
_ID_PREFIX = {Starters.USERS: "UW", Starters.GROUPS: "S", Starters.CHANNELS: "CGD"}
_ID_WORD = {Starters.USERS: "user", Starters.GROUPS: "user group", Starters.CHANNELS: "channel"}


@dataclass(frozen=True)
class Approvers:
    """Who approves: listed users, or the members of one channel."""

    users: frozenset[str] = frozenset()
    channel: str | None = None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset({self.channel}) if self.channel else self.users


def _ids(raw: str, kind: Starters) -> frozenset[str]:
    found: list[str] = []
    for part in re.split(r"[,\s]+", raw.strip()):
        if not part:
            continue
        match = _SLACK_REF.match(part)
        value = match.group(1) if match else part.strip().upper()
        if not _ID.match(value) or value[0] not in _ID_PREFIX[kind]:
            raise PolicyValueError(
                f'"{part[:40]}" is not a Slack {_ID_WORD[kind]} id (such as {_ID_PREFIX[kind][0]}012AB3CD)'
            )
        found.append(value)
    if not found:
        raise PolicyValueError(f"list at least one {_ID_WORD[kind]} id after the colon")
    return frozenset(found)


def parse_starters(raw: str) -> tuple[Starters, frozenset[str]]:
    """`everyone`, `users:U1,U2`, `groups:S1`, `channels:C1,C2` -> (who, their ids)."""
    text = raw.strip()
    head, sep, rest = text.partition(":")
    word = head.strip().lower()
    if not sep:
        if word in ("everyone", "all", "anyone"):
            return Starters.EVERYONE, frozenset()
        raise PolicyValueError(f"who may start jobs is {STARTERS_SYNTAX}")
    kinds = {"users": Starters.USERS, "user": Starters.USERS, "groups": Starters.GROUPS}
    kinds |= {"group": Starters.GROUPS, "usergroups": Starters.GROUPS}
    kinds |= {"channels": Starters.CHANNELS, "channel": Starters.CHANNELS}
    kind = kinds.get(word)
    if kind is None:
        raise PolicyValueError(f"who may start jobs is {STARTERS_SYNTAX}")
    return kind, _ids(rest, kind)


def format_starters(kind: Starters, allowed: frozenset[str]) -> str:
    if kind is Starters.EVERYONE:
        return "everyone"
    return f"{kind.value}:{','.join(sorted(allowed))}"


def parse_amount(raw: str, currency: str = "USD") -> Decimal | None:
    """`50`, `49.99`, `USD 1,000` (in `currency`) -> the amount; `none` -> no limit."""
    text = raw.strip()
    if text.lower() in NONE_WORDS:
        return None
    if text[:3].upper() == currency.upper() and len(currency) == 3:
        text = text[3:].strip()
    text = text.replace(",", "").replace("_", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise PolicyValueError(f"give {AMOUNT_SYNTAX}, in {currency}") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(CENT):
        raise PolicyValueError(f"give {AMOUNT_SYNTAX}, in {currency}")
    return amount.quantize(CENT)


def format_amount(amount: Decimal | None) -> str:
    return "none" if amount is None else f"{amount:.2f}"


def parse_over_budget(raw: str) -> OverBudget:
    word = raw.strip().lower()
    for choice in OverBudget:
        if word == choice.value:
            return choice
    raise PolicyValueError(f"what a start over a monthly budget gets is {OVER_BUDGET_SYNTAX}")


def parse_approvers(raw: str) -> Approvers:
    """`users:U1,U2`, `channel:C1`, `none` (also a bare list of user ids or one channel)."""
    text = raw.strip()
    if text.lower() in NONE_WORDS:
        return Approvers()
    head, sep, rest = text.partition(":")
    word = head.strip().lower() if sep else ""
    if not sep:
        rest = text
        first = rest.split(",")[0].strip()
        match = _SLACK_REF.match(first)
        word = "channel" if (match.group(1) if match else first.upper())[:1] in "CG" else "users"
    if word in ("users", "user"):
        return Approvers(users=_ids(rest, Starters.USERS))
    if word in ("channel", "channels"):
        channels = _ids(rest, Starters.CHANNELS)
        if len(channels) != 1:
            raise PolicyValueError("approvers can be one channel (its members approve), not several")
        return Approvers(channel=next(iter(channels)))
    raise PolicyValueError(f"approvers are {APPROVERS_SYNTAX}")


def format_approvers(approvers: Approvers) -> str:
    if approvers.channel:
        return f"channel:{approvers.channel}"
    if approvers.users:
        return f"users:{','.join(sorted(approvers.users))}"
    return "none"


def approvers_of(policy: SpendPolicy) -> Approvers:
    """The policy's approvers (SpendPolicy keeps user ids, or one channel id)."""
    ids = policy.approvers
    if len(ids) == 1 and next(iter(ids))[:1] in "CGD":
        return Approvers(channel=next(iter(ids)))
    return Approvers(users=ids)


def policy_values(policy: SpendPolicy) -> dict[PolicyKey, str]:
    """Each key's value, written as the settings and `/tune policy set` take it."""
    return {
        PolicyKey.STARTERS: format_starters(policy.starters, policy.allowed),
        PolicyKey.APPROVAL_ABOVE: format_amount(policy.approval_above),
        PolicyKey.BUDGET_PER_USER: format_amount(policy.monthly_budget_per_user),
        PolicyKey.BUDGET_PER_CHANNEL: format_amount(policy.monthly_budget_per_channel),
        PolicyKey.OVER_BUDGET: policy.over_budget.value,
        PolicyKey.APPROVERS: format_approvers(approvers_of(policy)),
    }


def with_value(policy: SpendPolicy, key: PolicyKey, raw: str) -> SpendPolicy:
    """`policy` with `key` set from what was typed (PolicyValueError when it cannot be read)."""
    match key:
        case PolicyKey.STARTERS:
            kind, allowed = parse_starters(raw)
            return replace(policy, starters=kind, allowed=allowed)
        case PolicyKey.APPROVAL_ABOVE:
            return replace(policy, approval_above=parse_amount(raw, policy.currency))
        case PolicyKey.BUDGET_PER_USER:
            return replace(policy, monthly_budget_per_user=parse_amount(raw, policy.currency))
        case PolicyKey.BUDGET_PER_CHANNEL:
            return replace(policy, monthly_budget_per_channel=parse_amount(raw, policy.currency))
        case PolicyKey.OVER_BUDGET:
            return replace(policy, over_budget=parse_over_budget(raw))
        case PolicyKey.APPROVERS:
            return replace(policy, approvers=parse_approvers(raw).ids)
    raise PolicyValueError(f"unknown policy key {key}")  # pragma: no cover - the match is exhaustive


def policy_from_values(values: dict[PolicyKey, str], currency: str) -> SpendPolicy:
    """A policy from its written values (the settings, or a stored row)."""
    policy = SpendPolicy(currency=currency)
    for key, raw in values.items():
        policy = with_value(policy, key, raw)
    return policy


def parse_key(raw: str) -> PolicyKey | None:
    return KEY_ALIASES.get(raw.strip().lower().replace("-", "_"))


# ------------------------------------------------------------------ months


def parse_time_zone(raw: str) -> ZoneInfo:
    """An IANA time zone name (`Asia/Tokyo`, `UTC`)."""
    name = raw.strip()
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise PolicyValueError(
            "give an IANA time zone name such as UTC, Europe/Berlin or Asia/Tokyo"
        ) from None


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Month:
    """A calendar month in a time zone: [start, end) as aware datetimes."""

    year: int
    month: int
    zone: ZoneInfo

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        year, month = (self.year + 1, 1) if self.month == 12 else (self.year, self.month + 1)
        return datetime(year, month, 1, tzinfo=self.zone)

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        return self.end.astimezone(UTC)

    def holds(self, at: datetime) -> bool:
        moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        return self.start <= moment < self.end


def month_of(at: datetime, zone: ZoneInfo) -> Month:
    """The calendar month `at` falls in, in `zone`."""
    local = (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(zone)
    return Month(local.year, local.month, zone)


def parse_month(raw: str, zone: ZoneInfo) -> Month:
    """`2026-11` -> November 2026 in `zone`."""
    match = _MONTH.match(raw.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise PolicyValueError("give a month as YYYY-MM, such as 2026-11")
    return Month(int(match.group(1)), int(match.group(2)), zone)
