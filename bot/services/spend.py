"""Who may spend and how much (issue #22): a team's policy (stored once an admin changes it,
else the settings'), the month's spend of a person and a channel, the decision at a start,
the live bill, and which budget notices are due. Result objects only; Slack text is in
bot/presentation/spend.py.

A job counts in the calendar month it was started in, in the workspace's time zone
(TUNEBOT_TIME_ZONE), at its counted cost when the service reported one, else its estimate.
A job that failed and was never counted costs nothing (Vertex AI bills the tokens it trained).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.approvals import starts_from_json
from bot.domain.audit import AuditAction
from bot.domain.policy import (
    Month,
    PolicyKey,
    month_of,
    policy_from_values,
    policy_values,
    with_value,
)
from bot.domain.spend import OverBudget, SpendPolicy, StartCheck, StartDecision, decide_start
from bot.domain.types import JobState
from bot.services.datasets import StartEstimate
from bot.storage.models import SpendPolicyRow, utcnow
from bot.storage.repositories.jobs import ACTIVE_STATES
from bot.storage.repositories.spend import JobCost
from bot.storage.store import Store

NOTICE_SHARE = Decimal("0.8")  # the owner hears once when their month passes 80 % of a budget
NOTICE_MARK = 80
SUM_PLACES = Decimal("0.000001")  # amounts are stored with at most six decimals (cost so far)


def money(value: float | None) -> Decimal | None:
    """A stored float as the Decimal it was written from (`0.1` stays `0.1`)."""
    return None if value is None else Decimal(repr(value))


# ------------------------------------------------------------------ the policy


@dataclass(frozen=True)
class TeamPolicy:
    """The policy in force: stored (changed in Slack by `updated_by`) or from the settings."""

    policy: SpendPolicy
    stored: bool = False
    updated_by: str | None = None
    updated_at: datetime | None = None


def team_policy(store: Store, team_id: str, defaults: SpendPolicy) -> TeamPolicy:
    row = store.spend.policy(team_id)
    if row is None:
        return TeamPolicy(defaults)
    values = {
        PolicyKey.STARTERS: row.starters,
        PolicyKey.APPROVAL_ABOVE: row.approval_above,
        PolicyKey.BUDGET_PER_USER: row.budget_per_user,
        PolicyKey.BUDGET_PER_CHANNEL: row.budget_per_channel,
        PolicyKey.OVER_BUDGET: row.over_budget,
        PolicyKey.APPROVERS: row.approvers,
    }
    policy = policy_from_values(values, defaults.currency)
    return TeamPolicy(policy, stored=True, updated_by=row.updated_by, updated_at=row.updated_at)


@dataclass(frozen=True)
class PolicyChange:
    """One key changed (or already so: `changed` False), written as the settings take it."""

    key: PolicyKey
    before: str
    after: str
    policy: SpendPolicy

    @property
    def changed(self) -> bool:
        return self.before != self.after


def set_policy(
    store: Store,
    *,
    team_id: str,
    actor_user_id: str,
    changes: Sequence[tuple[PolicyKey, str]],
    defaults: SpendPolicy,
) -> list[PolicyChange]:
    """Set keys of the team's policy (an admin's; the caller checks that), each change appended
    to the audit log with its value before and after. A value that cannot be read raises
    PolicyValueError before anything is stored."""
    current = team_policy(store, team_id, defaults).policy
    policy = current
    results: list[PolicyChange] = []
    for key, raw in changes:
        before = policy_values(policy)[key]
        policy = with_value(policy, key, raw)
        results.append(PolicyChange(key, before, policy_values(policy)[key], policy))
    if not any(change.changed for change in results):
        return results
    values = policy_values(policy)
    store.spend.save_policy(
        SpendPolicyRow(
            team_id=team_id,
            starters=values[PolicyKey.STARTERS],
            approval_above=values[PolicyKey.APPROVAL_ABOVE],
            budget_per_user=values[PolicyKey.BUDGET_PER_USER],
            budget_per_channel=values[PolicyKey.BUDGET_PER_CHANNEL],
            over_budget=values[PolicyKey.OVER_BUDGET],
            approvers=values[PolicyKey.APPROVERS],
            updated_by=actor_user_id,
            updated_at=utcnow(),
        )
    )
    amounts = {
        PolicyKey.APPROVAL_ABOVE: policy.approval_above,
        PolicyKey.BUDGET_PER_USER: policy.monthly_budget_per_user,
        PolicyKey.BUDGET_PER_CHANNEL: policy.monthly_budget_per_channel,
    }
    for change in results:
        if not change.changed:
            continue
        amount = amounts.get(change.key)
        store.audit.append(
            team_id=team_id,
            actor_user_id=actor_user_id,
            action=AuditAction.POLICY,
            subject=change.key.value,
            amount=float(amount) if amount is not None else None,
            currency=policy.currency if change.key in amounts else None,
            details={"key": change.key.value, "before": change.before, "after": change.after},
        )
    return results


def reset_policy(
    store: Store, *, team_id: str, actor_user_id: str, defaults: SpendPolicy
) -> list[PolicyChange]:
    """Forget the team's stored policy: the settings give it again (each key that changes is
    appended to the audit log). Empty when the policy came from the settings already."""
    current = team_policy(store, team_id, defaults)
    if not current.stored or not store.spend.forget_policy(team_id):
        return []
    before, after = policy_values(current.policy), policy_values(defaults)
    changes = [PolicyChange(key, before[key], after[key], defaults) for key in PolicyKey]
    for change in changes:
        if change.changed:
            store.audit.append(
                team_id=team_id,
                actor_user_id=actor_user_id,
                action=AuditAction.POLICY,
                subject=change.key.value,
                details={
                    "key": change.key.value,
                    "before": change.before,
                    "after": change.after,
                    "reset": True,
                },
            )
    return changes


# ------------------------------------------------------------------ what a month costs


def cost_of(job: JobCost) -> Decimal | None:
    """What a job counts for: its counted cost when known, else its estimate (None: neither)."""
    if job.counted_cost is not None:
        return money(job.counted_cost)
    if job.state == JobState.FAILED.value:
        return None  # failed before it was counted: nothing trained, nothing billed
    return money(job.estimated_cost)


def _in_currency(job: JobCost, currency: str) -> bool:
    return job.cost_currency is None or job.cost_currency.upper() == currency.upper()


@dataclass(frozen=True)
class MonthSpend:
    user_spent: Decimal
    channel_spent: Decimal


def month_spend(
    store: Store, team_id: str, month: Month, *, user_id: str, channel_id: str, currency: str
) -> MonthSpend:
    """This month's spend of a person and of a channel (`cost_of` each job), summed by the
    database. Stored amounts have at most six decimals, so the float sum rounded to six is the
    exact sum of what was written."""
    user, channel = store.spend.month_sums(
        team_id, month.start_utc, month.end_utc, user_id=user_id, channel_id=channel_id, currency=currency
    )
    return MonthSpend(_exact(user), _exact(channel))


def _exact(total: float) -> Decimal:
    return Decimal(repr(total)).quantize(SUM_PLACES)


def start_cost(estimate: StartEstimate) -> Decimal | None:
    """What a start is estimated to cost (bot.domain.pricing: training tokens × epochs plus the
    validation set); None without a price. While Vertex AI has not chosen the epochs, one
    epoch's cost: the least the job will cost (its counted cost replaces it in the month's
    spend once Vertex reports it)."""
    cost = estimate.cost
    return cost.amount if cost.amount is not None else cost.per_epoch_amount


@dataclass(frozen=True)
class SpendCheck:
    """The decision on a start, with what it was decided from."""

    decision: StartDecision
    check: StartCheck
    policy: SpendPolicy
    month: Month


def check_spend(
    store: Store,
    *,
    team_id: str,
    user_id: str,
    channel_id: str,
    estimate: Decimal | None,
    defaults: SpendPolicy,
    zone: ZoneInfo,
    user_groups: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> SpendCheck:
    """Decide a start by the team's policy and this month's spend (one read when the policy
    limits no cost)."""
    policy = team_policy(store, team_id, defaults).policy
    month = month_of(now or utcnow(), zone)
    spent = MonthSpend(Decimal(0), Decimal(0))
    if policy.monthly_budget_per_user is not None or policy.monthly_budget_per_channel is not None:
        spent = month_spend(
            store, team_id, month, user_id=user_id, channel_id=channel_id, currency=policy.currency
        )
    check = StartCheck(
        user_id=user_id,
        channel_id=channel_id,
        estimate=estimate,
        user_spent=spent.user_spent,
        channel_spent=spent.channel_spent,
        user_groups=user_groups,
    )
    return SpendCheck(decide_start(policy, check), check, policy, month)


def with_groups(spend: SpendCheck, user_groups: frozenset[str]) -> SpendCheck:
    """The decision again, knowing which of the policy's user groups the person is in."""
    check = replace(spend.check, user_groups=user_groups)
    return replace(spend, decision=decide_start(spend.policy, check), check=check)


# ------------------------------------------------------------------ the live bill


@dataclass(frozen=True)
class PendingApproval:
    """A request waiting for an approver (read from the approvals helper's table)."""

    requester_user_id: str
    channel_id: str
    what: str
    estimate: Decimal | None
    requested_at: datetime


def pending_approvals(store: Store, team_id: str) -> Sequence[PendingApproval]:
    """The team's requests waiting for an approver (bot/services/approvals.py), oldest first."""
    pending = []
    for request in store.approvals.pending(team_id):
        starts = starts_from_json(request.starts)
        what = ", ".join(f"{start.dataset_name} on {start.base_model}" for start in starts)
        pending.append(
            PendingApproval(
                requester_user_id=request.requester_user_id,
                channel_id=request.channel_id,
                what=what,
                estimate=money(request.amount),
                requested_at=request.created_at,
            )
        )
    return pending


@dataclass
class SpendLine:
    """Who (a person or a channel) spent what this month."""

    subject_id: str
    estimated: Decimal = Decimal(0)
    counted: Decimal = Decimal(0)
    total: Decimal = Decimal(0)  # counted where known, else estimated
    jobs: int = 0
    counted_jobs: int = 0

    def add(self, job: JobCost) -> None:
        self.jobs += 1
        estimated, counted = money(job.estimated_cost), money(job.counted_cost)
        if estimated is not None:
            self.estimated += estimated
        if counted is not None:
            self.counted += counted
            self.counted_jobs += 1
        self.total += cost_of(job) or Decimal(0)


@dataclass(frozen=True)
class RunningCost:
    """A job still billing: its estimate and the part of it trained so far."""

    job: JobCost
    so_far: Decimal | None
    estimated: Decimal | None


@dataclass(frozen=True)
class Bill:
    month: Month
    currency: str
    everyone: bool  # an admin's view; else the viewer and their channels only
    people: list[SpendLine]
    channels: list[SpendLine]
    running: list[RunningCost]
    pending: Sequence[PendingApproval]
    jobs: list[JobCost] = field(default_factory=list)  # every job shown (the CSV's rows)
    unpriced: int = 0  # jobs without an estimate or a count
    channels_unknown: bool = False  # Slack could not say which channels the viewer is in

    @property
    def total(self) -> SpendLine:
        """Every job shown, each once (a member's: theirs and those in their channels)."""
        line = SpendLine("total")
        for job in self.jobs:
            line.add(job)
        return line


def load_bill(
    store: Store,
    *,
    team_id: str,
    month: Month,
    viewer: str,
    admin: bool,
    member_of: frozenset[str] | None,
    currency: str,
) -> Bill:
    """The month's spend by person and by channel, the jobs still billing and the pending
    requests. An admin sees everyone; anyone else sees themselves and the channels they are in
    (`member_of`; None when Slack could not say: themselves only)."""
    channels_known = member_of or frozenset()

    def visible_channel(job: JobCost) -> bool:
        if admin or job.channel_id in channels_known:
            return True
        return job.channel_id[:1] == "D" and job.owner_user_id == viewer  # their DM with tunebot

    jobs = [
        job
        for job in store.spend.job_costs(team_id, month.start_utc, month.end_utc)
        if _in_currency(job, currency) and (admin or job.owner_user_id == viewer or visible_channel(job))
    ]
    people: dict[str, SpendLine] = {}
    channels: dict[str, SpendLine] = {}
    running: list[RunningCost] = []
    unpriced = 0
    for job in jobs:
        if admin or job.owner_user_id == viewer:
            people.setdefault(job.owner_user_id, SpendLine(job.owner_user_id)).add(job)
        if visible_channel(job):
            channels.setdefault(job.channel_id, SpendLine(job.channel_id)).add(job)
        if job.estimated_cost is None and job.counted_cost is None:
            unpriced += 1
        if job.state in ACTIVE_STATES:
            estimated = money(job.estimated_cost)
            so_far = money(job.counted_cost)
            if so_far is None and estimated is not None:
                so_far = estimated * Decimal(repr(max(0.0, min(job.percent, 100.0)))) / 100
            running.append(RunningCost(job, so_far, estimated))
    pending = [
        p
        for p in pending_approvals(store, team_id)
        if admin or p.requester_user_id == viewer or p.channel_id in channels_known
    ]
    return Bill(
        month=month,
        currency=currency,
        everyone=admin,
        people=sorted(people.values(), key=lambda line: (-line.total, line.subject_id)),
        channels=sorted(channels.values(), key=lambda line: (-line.total, line.subject_id)),
        running=running,
        pending=pending,
        jobs=jobs,
        unpriced=unpriced,
        channels_unknown=member_of is None and not admin,
    )


# ------------------------------------------------------------------ budget notices


@dataclass(frozen=True)
class NoticeDue:
    """A person whose month passed NOTICE_MARK % of their budget ("user"), or whose job tunebot
    cancelled because it took their month past a hard budget ("cap": `mark` is the job's id)."""

    team_id: str
    user_id: str
    month: Month
    spent: Decimal
    budget: Decimal
    currency: str
    mark: int = NOTICE_MARK
    kind: str = "user"
    job_name: str | None = None


def notices_due(store: Store, *, defaults: SpendPolicy, zone: ZoneInfo, now: datetime) -> list[NoticeDue]:
    """Everyone whose spend this month is past NOTICE_MARK % of their monthly budget (whether
    they were told is the notice table's business)."""
    month = month_of(now, zone)
    due: list[NoticeDue] = []
    if defaults.monthly_budget_per_user is None and not store.spend.teams_with_person_budgets():
        return due  # no budget anywhere: one query a cycle
    for team_id in store.spend.teams_with_jobs(month.start_utc, month.end_utc):
        policy = team_policy(store, team_id, defaults).policy
        budget = policy.monthly_budget_per_user
        if budget is None:
            continue
        spent: dict[str, Decimal] = {}
        for job in store.spend.job_costs(team_id, month.start_utc, month.end_utc):
            cost = cost_of(job)
            if cost is not None and _in_currency(job, policy.currency):
                spent[job.owner_user_id] = spent.get(job.owner_user_id, Decimal(0)) + cost
        for user_id, amount in sorted(spent.items()):
            if amount > budget * NOTICE_SHARE:
                due.append(NoticeDue(team_id, user_id, month, amount, budget, policy.currency))
    return due


# ------------------------------------------------------------------ the hard cap


@dataclass(frozen=True)
class CapDue:
    """A running job whose counted cost takes its owner's month past a hard budget (a policy
    that refuses starts over budget): tunebot cancels it."""

    team_id: str
    user_id: str
    job_id: int
    job_name: str
    spent: Decimal
    budget: Decimal
    currency: str


def _hard_budget(policy: SpendPolicy) -> Decimal | None:
    """The person budget that is a hard cap: one that refuses (rather than asks) over it."""
    if policy.over_budget is not OverBudget.REFUSE:
        return None
    return policy.monthly_budget_per_user


def _person_months(
    store: Store, *, defaults: SpendPolicy, zone: ZoneInfo, now: datetime
) -> list[tuple[str, SpendPolicy, Decimal, Month, list[JobCost], dict[str, Decimal]]]:
    """Each team with a hard person budget: its policy, the budget, the month, the month's jobs
    and each person's spend (counted cost, else the estimate)."""
    month = month_of(now, zone)
    found: list[tuple[str, SpendPolicy, Decimal, Month, list[JobCost], dict[str, Decimal]]] = []
    if defaults.monthly_budget_per_user is None and not store.spend.teams_with_person_budgets():
        return found
    for team_id in store.spend.teams_with_jobs(month.start_utc, month.end_utc):
        policy = team_policy(store, team_id, defaults).policy
        budget = _hard_budget(policy)
        if budget is None:
            continue
        jobs = store.spend.job_costs(team_id, month.start_utc, month.end_utc)
        spent: dict[str, Decimal] = {}
        for job in jobs:
            cost = cost_of(job)
            if cost is not None and _in_currency(job, policy.currency):
                spent[job.owner_user_id] = spent.get(job.owner_user_id, Decimal(0)) + cost
        found.append((team_id, policy, budget, month, jobs, spent))
    return found


def caps_due(store: Store, *, defaults: SpendPolicy, zone: ZoneInfo, now: datetime) -> list[CapDue]:
    """Running jobs with a counted cost whose owner's month, counting it, is past a hard budget.
    Only counted jobs are cancelled: an estimate let the job start within the budget, and only
    Vertex's count can show it was wrong."""
    due: list[CapDue] = []
    for team_id, policy, budget, _month, jobs, spent in _person_months(
        store, defaults=defaults, zone=zone, now=now
    ):
        for job in jobs:
            if job.state not in ACTIVE_STATES or job.counted_cost is None or job.cancelled_by:
                continue
            if not _in_currency(job, policy.currency):
                continue
            total = spent.get(job.owner_user_id, Decimal(0))
            if total > budget:
                due.append(
                    CapDue(
                        team_id,
                        job.owner_user_id,
                        job.job_id,
                        job.display_name,
                        total,
                        budget,
                        policy.currency,
                    )
                )
    return due


def cap_notices_due(
    store: Store, *, defaults: SpendPolicy, zone: ZoneInfo, now: datetime, actor: str
) -> list[NoticeDue]:
    """The owners of this month's jobs tunebot cancelled (`cancelled_by` = `actor`) for a hard
    budget: each hears it once (whether they were told is the notice table's business)."""
    due: list[NoticeDue] = []
    for team_id, policy, budget, month, jobs, spent in _person_months(
        store, defaults=defaults, zone=zone, now=now
    ):
        for job in jobs:
            if job.cancelled_by != actor:
                continue
            due.append(
                NoticeDue(
                    team_id,
                    job.owner_user_id,
                    month,
                    spent.get(job.owner_user_id, Decimal(0)),
                    budget,
                    policy.currency,
                    mark=job.job_id,
                    kind="cap",
                    job_name=job.display_name,
                )
            )
    return due
