"""The spend rules at their boundaries (issue #22): exactly at a limit is allowed, one cent over
is not; who may start is checked first; a budget refuses or asks as the policy says."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain.spend import (
    OverBudget,
    SpendPolicy,
    StartCheck,
    Starters,
    StartRule,
    Verdict,
    budget_crossed,
    decide_start,
)

CENT = Decimal("0.01")


def check(
    estimate: str | None, *, user_spent: str = "0", channel_spent: str = "0", **who: object
) -> StartCheck:
    return StartCheck(
        user_id=str(who.get("user_id", "U1")),
        channel_id=str(who.get("channel_id", "C1")),
        estimate=Decimal(estimate) if estimate is not None else None,
        user_spent=Decimal(user_spent),
        channel_spent=Decimal(channel_spent),
        user_groups=frozenset(who.get("groups", ())),  # type: ignore[call-overload]
    )


def test_without_limits_everyone_starts_anything() -> None:
    assert decide_start(SpendPolicy(), check(None)).allowed
    assert decide_start(SpendPolicy(), check("1000000")).allowed


def test_approval_threshold_exactly_at_and_one_cent_over() -> None:
    policy = SpendPolicy(approval_above=Decimal("50.00"))
    assert decide_start(policy, check("50.00")).allowed
    over = decide_start(policy, check(str(Decimal("50.00") + CENT)))
    assert (over.verdict, over.rule, over.limit) == (
        Verdict.APPROVE,
        StartRule.APPROVAL_ABOVE,
        Decimal("50.00"),
    )


@pytest.mark.parametrize("over_budget", [OverBudget.REFUSE, OverBudget.APPROVE])
def test_user_budget_reached_exactly_and_passed_by_a_cent(over_budget: OverBudget) -> None:
    policy = SpendPolicy(monthly_budget_per_user=Decimal("100"), over_budget=over_budget)
    assert decide_start(policy, check("40.00", user_spent="60.00")).allowed
    passed = decide_start(policy, check("40.01", user_spent="60.00"))
    expected = Verdict.REFUSE if over_budget is OverBudget.REFUSE else Verdict.APPROVE
    assert (passed.verdict, passed.rule, passed.limit, passed.spent) == (
        expected,
        StartRule.USER_BUDGET,
        Decimal("100"),
        Decimal("60.00"),
    )


def test_channel_budget_counts_the_channels_spend() -> None:
    policy = SpendPolicy(monthly_budget_per_channel=Decimal("10"))
    assert decide_start(policy, check("1", channel_spent="9")).allowed
    assert decide_start(policy, check("1", channel_spent="9.01")).rule is StartRule.CHANNEL_BUDGET


def test_a_budget_is_checked_before_the_approval_threshold() -> None:
    policy = SpendPolicy(monthly_budget_per_user=Decimal("10"), approval_above=Decimal("5"))
    decision = decide_start(policy, check("20"))
    assert (decision.verdict, decision.rule) == (Verdict.REFUSE, StartRule.USER_BUDGET)


def test_with_a_cost_limit_a_job_without_a_price_asks() -> None:
    decision = decide_start(SpendPolicy(approval_above=Decimal("5")), check(None))
    assert (decision.verdict, decision.rule) == (Verdict.APPROVE, StartRule.NO_PRICE)


@pytest.mark.parametrize(
    ("starters", "allowed", "who", "may"),
    [
        (Starters.USERS, {"U1"}, {"user_id": "U1"}, True),
        (Starters.USERS, {"U1"}, {"user_id": "U2"}, False),
        (Starters.GROUPS, {"S1"}, {"groups": ("S1", "S9")}, True),
        (Starters.GROUPS, {"S1"}, {"groups": ("S9",)}, False),
        (Starters.CHANNELS, {"C1"}, {"channel_id": "C1"}, True),
        (Starters.CHANNELS, {"C1"}, {"channel_id": "C2"}, False),
    ],
)
def test_who_may_start(starters: Starters, allowed: set[str], who: dict[str, object], may: bool) -> None:
    policy = SpendPolicy(starters=starters, allowed=frozenset(allowed), approval_above=Decimal("1"))
    decision = decide_start(policy, check("5", **who))
    if may:
        assert decision.rule is StartRule.APPROVAL_ABOVE  # let through to the next rule
    else:
        assert (decision.verdict, decision.rule) == (Verdict.REFUSE, StartRule.STARTERS)


def test_eighty_percent_is_crossed_once() -> None:
    budget, share = Decimal("100"), Decimal("0.8")
    assert not budget_crossed(Decimal("10"), Decimal("80"), budget, share)  # reached, not passed
    assert budget_crossed(Decimal("80"), Decimal("80.01"), budget, share)
    assert not budget_crossed(Decimal("80.01"), Decimal("95"), budget, share)  # already past
