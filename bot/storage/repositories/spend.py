"""Spend policies, the month's job costs, and once-only budget notices (issue #22).

Each public method is one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.storage.engine import Repository
from bot.storage.models import BudgetNotice, SpendPolicyRow, TuningJob, utcnow


@dataclass(frozen=True)
class JobCost:
    """What one job costs, as far as tunebot knows (None: not known, e.g. no price)."""

    job_id: int
    owner_user_id: str
    channel_id: str
    display_name: str
    base_model: str
    state: str
    percent: float
    created_at: datetime
    estimated_cost: float | None
    counted_cost: float | None
    cost_currency: str | None
    cancelled_by: str | None = None


class SpendRepository(Repository):
    # ------------------------------------------------------------------ policies

    def policy(self, team_id: str) -> SpendPolicyRow | None:
        with self.session() as session:
            return session.get(SpendPolicyRow, team_id)

    def save_policy(self, row: SpendPolicyRow) -> None:
        """Insert or replace the team's policy."""
        with self.session() as session:
            existing = session.get(SpendPolicyRow, row.team_id)
            if existing is None:
                session.add(row)
            else:
                for name in SpendPolicyRow.model_fields:
                    setattr(existing, name, getattr(row, name))
                session.add(existing)
            session.commit()

    def teams_with_person_budgets(self) -> list[str]:
        """Teams whose stored policy sets a monthly budget per person."""
        query = select(SpendPolicyRow.team_id).where(col(SpendPolicyRow.budget_per_user) != "none")
        with self.session() as session:
            return sorted(session.exec(query).all())

    def forget_policy(self, team_id: str) -> bool:
        """Drop the stored policy (the settings give it again); False when there was none."""
        with self.session() as session:
            existing = session.get(SpendPolicyRow, team_id)
            if existing is None:
                return False
            session.delete(existing)
            session.commit()
            return True

    # ------------------------------------------------------------------ costs

    def job_costs(
        self,
        team_id: str | None,
        since: datetime,
        until: datetime,
        *,
        user_id: str | None = None,
        channel_id: str | None = None,
    ) -> list[JobCost]:
        """The jobs started in [since, until) (all teams when `team_id` is None), oldest first;
        with `user_id` or `channel_id`, only that person's or that channel's (either). Only the
        columns a cost needs are read."""
        columns = (
            col(TuningJob.id),
            col(TuningJob.owner_user_id),
            col(TuningJob.channel_id),
            col(TuningJob.display_name),
            col(TuningJob.base_model),
            col(TuningJob.state),
            col(TuningJob.percent),
            col(TuningJob.created_at),
            col(TuningJob.estimated_cost),
            col(TuningJob.counted_cost),
            col(TuningJob.cost_currency),
            col(TuningJob.cancelled_by),
        )
        query = sa_select(*columns).where(
            col(TuningJob.created_at) >= since, col(TuningJob.created_at) < until
        )
        if team_id is not None:
            query = query.where(col(TuningJob.team_id) == team_id)
        whose = [
            condition
            for condition in (
                col(TuningJob.owner_user_id) == user_id if user_id is not None else None,
                col(TuningJob.channel_id) == channel_id if channel_id is not None else None,
            )
            if condition is not None
        ]
        if whose:
            query = query.where(or_(*whose))
        with self.session() as session:
            rows = session.execute(query.order_by(col(TuningJob.created_at), col(TuningJob.id))).all()
        return [
            JobCost(
                job_id=row[0] or 0,
                owner_user_id=row[1],
                channel_id=row[2],
                display_name=row[3],
                base_model=row[4],
                state=row[5],
                percent=row[6],
                created_at=row[7],
                estimated_cost=row[8],
                counted_cost=row[9],
                cost_currency=row[10],
                cancelled_by=row[11],
            )
            for row in rows
        ]

    def month_sums(
        self,
        team_id: str,
        since: datetime,
        until: datetime,
        *,
        user_id: str,
        channel_id: str,
        currency: str,
    ) -> tuple[float, float]:
        """What `user_id`'s jobs and `channel_id`'s jobs started in [since, until) cost, summed
        by the database (one row back, however many jobs: a start's policy check runs in the
        ack). A job counts its counted cost, else its estimate (a failed job without a count:
        nothing), in `currency` or with no currency recorded; bot.services.spend.cost_of is the
        same rule in Python."""
        cost = func.coalesce(
            col(TuningJob.counted_cost),
            case((col(TuningJob.state) == "failed", None), else_=col(TuningJob.estimated_cost)),
        )
        in_currency = or_(
            col(TuningJob.cost_currency).is_(None),
            func.upper(col(TuningJob.cost_currency)) == currency.upper(),
        )
        query = sa_select(
            func.coalesce(func.sum(case((col(TuningJob.owner_user_id) == user_id, cost), else_=None)), 0.0),
            func.coalesce(func.sum(case((col(TuningJob.channel_id) == channel_id, cost), else_=None)), 0.0),
        ).where(
            col(TuningJob.team_id) == team_id,
            col(TuningJob.created_at) >= since,
            col(TuningJob.created_at) < until,
            or_(col(TuningJob.owner_user_id) == user_id, col(TuningJob.channel_id) == channel_id),
            in_currency,
        )
        with self.session() as session:
            user, channel = session.execute(query).one()
        return float(user), float(channel)

    def teams_with_jobs(self, since: datetime, until: datetime) -> list[str]:
        query = (
            select(TuningJob.team_id)
            .where(col(TuningJob.created_at) >= since, col(TuningJob.created_at) < until)
            .distinct()
        )
        with self.session() as session:
            return sorted(session.exec(query).all())

    # ------------------------------------------------------------------ notices

    def claim_notice(
        self,
        *,
        team_id: str,
        month: str,
        budget: str,
        subject_id: str,
        mark: int,
        owner: str,
        lease_seconds: float,
        now: datetime | None = None,
    ) -> tuple[BudgetNotice, bool] | None:
        """The notice, claimed by `owner` to post it, and whether it is new: a new row, or one
        left `posting` by a process whose claim expired or failed (it may have posted: look
        before posting again). None when it was posted already or another process holds it."""
        at = now or utcnow()
        until = at + timedelta(seconds=lease_seconds)
        notice = BudgetNotice(
            team_id=team_id,
            month=month,
            budget=budget,
            subject_id=subject_id,
            mark=mark,
            state="posting",
            claimed_by=owner,
            claimed_until=until,
            created_at=at,
        )
        try:
            with self.session() as session:
                session.add(notice)
                session.commit()
                session.refresh(notice)
                return notice, True
        except IntegrityError:
            pass
        key = and_(
            col(BudgetNotice.team_id) == team_id,
            col(BudgetNotice.month) == month,
            col(BudgetNotice.budget) == budget,
            col(BudgetNotice.subject_id) == subject_id,
            col(BudgetNotice.mark) == mark,
        )
        free = or_(col(BudgetNotice.claimed_until).is_(None), col(BudgetNotice.claimed_until) < at)
        with self.session() as session:
            taken = session.execute(
                update(BudgetNotice)
                .where(key, col(BudgetNotice.state) == "posting", free)
                .values(claimed_by=owner, claimed_until=until)
            )
            session.commit()
            if getattr(taken, "rowcount", 0) != 1:
                return None
            found = session.exec(select(BudgetNotice).where(key)).first()
            return (found, False) if found is not None else None

    def notice_posted(self, notice_id: int, *, owner: str, message_ts: str) -> None:
        with self.session() as session:
            session.execute(
                update(BudgetNotice)
                .where(col(BudgetNotice.id) == notice_id, col(BudgetNotice.claimed_by) == owner)
                .values(state="posted", message_ts=message_ts, claimed_until=None)
            )
            session.commit()

    def notice_undeliverable(self, notice_id: int, *, owner: str) -> None:
        """Slack will never take it (the person is gone, or a bot): not tried again."""
        with self.session() as session:
            session.execute(
                update(BudgetNotice)
                .where(col(BudgetNotice.id) == notice_id, col(BudgetNotice.claimed_by) == owner)
                .values(state="undeliverable", claimed_until=None)
            )
            session.commit()

    def release_notice(self, notice_id: int, *, owner: str) -> None:
        """Give the claim up (the post failed): the next cycle tries again, looking first."""
        with self.session() as session:
            session.execute(
                update(BudgetNotice)
                .where(col(BudgetNotice.id) == notice_id, col(BudgetNotice.claimed_by) == owner)
                .values(claimed_until=None)
            )
            session.commit()

    def notices(self, team_id: str) -> list[BudgetNotice]:
        with self.session() as session:
            query = select(BudgetNotice).where(BudgetNotice.team_id == team_id)
            return list(session.exec(query.order_by(col(BudgetNotice.id))).all())
