"""Who may spend, how much, and who must approve (issue #22): the rules as data and one pure
decision. Money is Decimal in the policy's currency; a month is a calendar month in the
workspace's time zone (callers pass the month's spend, already summed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Starters(StrEnum):
    """Who may start jobs (TUNEBOT_STARTERS)."""

    EVERYONE = "everyone"
    USERS = "users"  # the listed Slack user ids
    GROUPS = "groups"  # members of the listed Slack user groups
    CHANNELS = "channels"  # from the listed channels only


class OverBudget(StrEnum):
    """What a start that would pass a monthly budget gets."""

    REFUSE = "refuse"
    APPROVE = "approve"  # asks an approver


class StartRule(StrEnum):
    """The rule that refused a start or asked for approval."""

    STARTERS = "starters"
    APPROVAL_ABOVE = "approval_above"
    USER_BUDGET = "user_budget"
    CHANNEL_BUDGET = "channel_budget"
    NO_PRICE = "no_price"  # a limit is set, but the job's cost cannot be estimated


@dataclass(frozen=True)
class SpendPolicy:
    """A workspace's policy. None: no such limit."""

    currency: str = "USD"
    starters: Starters = Starters.EVERYONE
    allowed: frozenset[str] = frozenset()  # user ids, user group ids or channel ids, by `starters`
    approval_above: Decimal | None = None  # the largest estimated cost of one job needing no approval
    monthly_budget_per_user: Decimal | None = None
    monthly_budget_per_channel: Decimal | None = None
    over_budget: OverBudget = OverBudget.REFUSE
    approvers: frozenset[str] = frozenset()  # user ids, or one channel id (approvers = its members)

    @property
    def limits_cost(self) -> bool:
        return (
            self.approval_above is not None
            or self.monthly_budget_per_user is not None
            or self.monthly_budget_per_channel is not None
        )


class Verdict(StrEnum):
    ALLOW = "allow"
    APPROVE = "approve"  # becomes a request to the approvers
    REFUSE = "refuse"


@dataclass(frozen=True)
class StartCheck:
    """What a start asks to spend, and what has been spent this month (in the policy's currency)."""

    user_id: str
    channel_id: str
    estimate: Decimal | None  # None: no price for the base model, so no estimate
    user_spent: Decimal = Decimal(0)
    channel_spent: Decimal = Decimal(0)
    user_groups: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class StartDecision:
    verdict: Verdict
    rule: StartRule | None = None
    limit: Decimal | None = None  # the limit the rule names
    spent: Decimal | None = None  # this month's spend the rule counted (budgets)

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


ALLOW = StartDecision(Verdict.ALLOW)


def may_start(policy: SpendPolicy, check: StartCheck) -> bool:
    match policy.starters:
        case Starters.EVERYONE:
            return True
        case Starters.USERS:
            return check.user_id in policy.allowed
        case Starters.GROUPS:
            return bool(check.user_groups & policy.allowed)
        case Starters.CHANNELS:
            return check.channel_id in policy.allowed
    return False


def decide_start(policy: SpendPolicy, check: StartCheck) -> StartDecision:
    """Allow, ask for approval, or refuse a start, and the rule that decided.

    Limits are inclusive: an estimate exactly at `approval_above`, or spend that reaches a
    budget exactly, is allowed; one cent over is not. Who may start is checked first, then the
    budgets (which refuse or ask, by `over_budget`), then the approval threshold. With any cost
    limit set, a start whose cost cannot be estimated asks for approval."""
    if not may_start(policy, check):
        return StartDecision(Verdict.REFUSE, StartRule.STARTERS)
    if not policy.limits_cost:
        return ALLOW
    if check.estimate is None:
        return StartDecision(Verdict.APPROVE, StartRule.NO_PRICE)
    over = Verdict.REFUSE if policy.over_budget is OverBudget.REFUSE else Verdict.APPROVE
    budgets = (
        (StartRule.USER_BUDGET, policy.monthly_budget_per_user, check.user_spent),
        (StartRule.CHANNEL_BUDGET, policy.monthly_budget_per_channel, check.channel_spent),
    )
    for rule, budget, spent in budgets:
        if budget is not None and spent + check.estimate > budget:
            return StartDecision(over, rule, budget, spent)
    if policy.approval_above is not None and check.estimate > policy.approval_above:
        return StartDecision(Verdict.APPROVE, StartRule.APPROVAL_ABOVE, policy.approval_above)
    return ALLOW


def budget_crossed(spent_before: Decimal, spent_after: Decimal, budget: Decimal, share: Decimal) -> bool:
    """Whether spend moving from `spent_before` to `spent_after` passes `share` (e.g. 0.8) of
    `budget`: the moment its owner hears about it, once."""
    mark = budget * share
    return spent_before <= mark < spent_after
