"""Jobs with a cost, written straight into the database (the prices helper fills these columns
from Vertex; these tests set them), and the estimate a start on a dataset gets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.datasets.insight import DatasetInsight
from bot.storage.models import TuningJob, utcnow
from bot.storage.store import Store
from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, store_of

# The Gemini API backend's default base model, priced so a start's estimate is its training
# tokens / 100 in USD, exactly (10,000 per 1M tokens).
PRICES = {"TUNEBOT_TRAINING_PRICES": "gemini-1.5-flash-001-tuning=10000"}


def add_job(
    store: Store,
    team_id: str,
    owner: str,
    *,
    channel: str = CHANNEL,
    counted: str | None = None,
    estimated: str | None = None,
    at: datetime | None = None,
    state: str = "succeeded",
    name: str = "earlier job",
    percent: float = 100.0,
    currency: str | None = "USD",
) -> TuningJob:
    return store.jobs.create(
        TuningJob(
            team_id=team_id,
            owner_user_id=owner,
            channel_id=channel,
            display_name=name,
            base_model="models/gemini-1.5-flash-001-tuning",
            model_name=f"tunedModels/{name.replace(' ', '-')}-{owner.lower()}",
            epoch_count=1,
            batch_size=1,
            learning_rate=0.001,
            state=state,
            percent=percent,
            counted_cost=float(counted) if counted is not None else None,
            estimated_cost=float(estimated) if estimated is not None else None,
            cost_currency=currency,
            created_at=at or utcnow(),
            notice_state="done",
            message_state="posted",
            eval_state="skipped",
        )
    )


def start_estimate(stack: OfflineStack, dataset: str, epochs: int = 1) -> Decimal:
    """What `/tune start <dataset> epochs=N` is estimated at with PRICES."""
    store = store_of(stack)
    found = store.datasets.by_name(stack.workspace.team_id, dataset)
    assert found is not None and found.id is not None
    insight = DatasetInsight.from_json(store.datasets.insight(found.id))
    assert insight is not None
    return Decimal(insight.total_tokens * epochs) / 100


def spend_builders(hostile: str) -> dict[str, Any]:
    """tests/test_escaping_walk.py's BUILDERS for bot/presentation/spend.py: hostile text in
    every field a user controls (a job's name, a dataset's, what was typed)."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from bot.domain.policy import PolicyKey, parse_month
    from bot.domain.spend import (
        OverBudget,
        SpendPolicy,
        StartCheck,
        StartDecision,
        Starters,
        StartRule,
        Verdict,
    )
    from bot.presentation import spend, spend_home
    from bot.services.spend import (
        Bill,
        NoticeDue,
        PendingApproval,
        PolicyChange,
        SpendCheck,
        SpendLine,
        TeamPolicy,
    )
    from bot.storage.repositories.spend import JobCost

    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    month = parse_month("2026-12", ZoneInfo("Asia/Tokyo"))
    policies = [
        SpendPolicy(),
        SpendPolicy(
            starters=Starters.USERS,
            allowed=frozenset({"U0A"}),
            approval_above=Decimal(5),
            monthly_budget_per_user=Decimal(100),
            monthly_budget_per_channel=Decimal(200),
            over_budget=OverBudget.APPROVE,
            approvers=frozenset({"C0FIN"}),
        ),
        SpendPolicy(
            starters=Starters.GROUPS, allowed=frozenset({"S0A"}), approvers=frozenset({"U0A", "U0B"})
        ),
        SpendPolicy(starters=Starters.CHANNELS, allowed=frozenset({"C0A"})),
    ]
    teams = [TeamPolicy(p) for p in policies] + [TeamPolicy(policies[1], True, "U0ADMIN", now)]
    job = JobCost(1, "U0A", "C0A", hostile, hostile, "running", 40.0, now, 2.5, None, "USD")
    done = JobCost(2, "U0B", "D0B", hostile, hostile, "succeeded", 100.0, now, 3.0, 2.0, "USD")
    lines = [SpendLine("U0A", Decimal(1), Decimal(2), Decimal(2), 2, 1), SpendLine("U0B")]
    pending = [PendingApproval("U0A", "C0A", hostile, Decimal(3), now)]

    def bill(everyone: bool) -> Bill:
        from bot.services.spend import RunningCost

        running = [RunningCost(job, Decimal(1), Decimal("2.5")), RunningCost(job, None, None)]
        return Bill(
            month, "USD", everyone, lines * 20, lines, running * 20, pending, [job, done], 1, not everyone
        )

    def checks() -> list[SpendCheck]:
        check = StartCheck("U0A", "C0A", Decimal("40.01"), Decimal(60), Decimal(70))
        decisions = [
            StartDecision(Verdict.REFUSE, StartRule.STARTERS),
            StartDecision(Verdict.REFUSE, StartRule.USER_BUDGET, Decimal(100), Decimal(60)),
            StartDecision(Verdict.APPROVE, StartRule.CHANNEL_BUDGET, Decimal(100), Decimal(70)),
            StartDecision(Verdict.APPROVE, StartRule.APPROVAL_ABOVE, Decimal(5)),
            StartDecision(Verdict.APPROVE, StartRule.NO_PRICE),
        ]
        return [SpendCheck(d, check, p, month) for d in decisions for p in policies]

    changes = [
        PolicyChange(PolicyKey.STARTERS, hostile, hostile, policies[0]),
        PolicyChange(PolicyKey.APPROVERS, "none", "none", policies[0]),
    ]
    return {
        "spend.money": "an amount in the operator's currency",
        "spend.starters_text": lambda: [spend.starters_text(p) for p in policies],
        "spend.approvers_text": lambda: [spend.approvers_text(p) for p in policies],
        "spend.policy_lines": lambda: [spend.policy_lines(p) for p in policies],
        "spend.policy_text": lambda: [spend.policy_text(t, admin=True, zone=hostile) for t in teams],
        "spend.policy_changed_text": lambda: [
            spend.policy_changed_text(changes),
            spend.policy_changed_text([]),
        ],
        "spend.not_admin_text": lambda: [
            spend.not_admin_text(frozenset({"U0A"})),
            spend.not_admin_text(frozenset()),
        ],
        "spend.policy_usage_text": lambda: [spend.policy_usage_text(hostile), spend.policy_usage_text()],
        "spend.unknown_key_text": lambda: [
            spend.unknown_key_text(hostile, "starters"),
            spend.unknown_key_text(hostile, None),
        ],
        "spend.bad_value_text": lambda: [spend.bad_value_text(key, hostile, hostile) for key in PolicyKey],
        "spend.refusal_text": lambda: [spend.refusal_text(c) for c in checks()],
        "spend.bill_blocks": lambda: [spend.bill_blocks(bill(e), zone=hostile) for e in (True, False)],
        "spend.bill_csv": "a CSV, every cell through spreadsheet_safe (tests/test_spend_bill.py)",
        "spend.bill_csv_file_name": "a file name made of a month",
        "spend.bill_csv_title": "a file's title: plain text",
        "spend.bill_csv_sent_text": lambda: [
            spend.bill_csv_sent_text("2026-12", sent=s) for s in (True, False)
        ],
        "spend.bad_month_text": lambda: spend.bad_month_text(hostile),
        "spend.groups_unknown_text": lambda: spend.groups_unknown_text(),
        "spend.budget_notice_text": lambda: spend.budget_notice_text(
            NoticeDue("T1", "U0A", month, Decimal("80.01"), Decimal(100), "USD")
        ),
        "spend_home.home_spend_blocks": lambda: [
            spend_home.home_spend_blocks(bill(e), team=t, zone=hostile)
            for e in (True, False)
            for t in (None, teams[-1])
        ],
        "spend_home.policy_modal": lambda: [spend_home.policy_modal(t) for t in teams],
    }
