"""The pure plan of Slack calls under Slack's rate limits (bot/polling/slackplan.py)."""

from __future__ import annotations

import itertools

from bot.polling.slackplan import Budget, ChannelPosts, Edit, EditPlan


def drain(
    plan: EditPlan[str], start: float, step: float = 0.1, until: float = 600.0
) -> list[tuple[float, int, str]]:
    """Take every edit as soon as the plan lets it go: (time, job, payload)."""
    sent = []
    now = start
    while len(plan) and now < until:
        edit = plan.take(now)
        if edit is not None:
            plan.sent(edit, now)
            sent.append((round(now, 3), edit.job_id, edit.payload))
        now += step
    return sent


def test_the_newest_state_of_a_job_replaces_the_pending_one() -> None:
    plan: EditPlan[str] = EditPlan(Budget(per_minute=60))
    for percent in (10, 20, 30):
        plan.submit(Edit(1, f"{percent}%"))
    plan.submit(Edit(2, "5%"))
    assert len(plan) == 2
    assert sorted(payload for _, _, payload in drain(plan, 0.0)) == ["30%", "5%"]


def test_edits_are_spread_under_the_tier_never_in_a_burst() -> None:
    plan: EditPlan[str] = EditPlan(Budget(per_minute=40))
    for job in range(100):
        plan.submit(Edit(job, "x"))
    sent = drain(plan, 0.0, step=0.5, until=120.0)
    times = [t for t, _, _ in sent]
    assert len(times) == 80  # two minutes at 40 a minute
    assert all(b - a >= 1.5 - 1e-9 for a, b in itertools.pairwise(times))
    for start in range(0, 60):
        assert sum(start <= t < start + 60 for t in times) <= 40


def test_the_message_shown_longest_ago_goes_first_so_every_message_gets_its_turn() -> None:
    plan: EditPlan[str] = EditPlan(Budget(per_minute=60))
    plan.shown(1, 50.0)
    plan.shown(2, 10.0)
    plan.shown(3, 30.0)
    plan.submit(Edit(1, "a"))
    plan.submit(Edit(2, "b"))
    plan.submit(Edit(3, "c"))
    plan.submit(Edit(4, "never shown yet"))
    assert [job for _, job, _ in drain(plan, 100.0)] == [4, 2, 3, 1]
    # Jobs that keep changing take turns: none waits while another goes twice.
    for job in (1, 2, 3, 4):
        plan.submit(Edit(job, "again"))
    plan.submit(Edit(5, "new"))
    assert [job for _, job, _ in drain(plan, 200.0)] == [5, 4, 2, 3, 1]


def test_a_finished_jobs_last_edit_waits_a_little_behind_running_jobs() -> None:
    plan: EditPlan[str] = EditPlan(Budget(per_minute=60))
    plan.shown(1, 0.0)  # finished; its notice says so
    plan.shown(2, 30.0)  # running
    plan.shown(3, 90.0)  # running, shown a minute after the finished one
    plan.submit(Edit(1, "ready", final=True))
    plan.submit(Edit(2, "50%"))
    plan.submit(Edit(3, "10%"))
    assert [job for _, job, _ in drain(plan, 100.0)] == [2, 1, 3]


def test_a_429_pauses_the_plan_for_retry_after_and_keeps_the_edit() -> None:
    plan: EditPlan[str] = EditPlan(Budget(per_minute=60))
    plan.submit(Edit(1, "10%"))
    edit = plan.take(0.0)
    assert edit is not None
    plan.submit(Edit(1, "20%"))  # newer, arrived while the first was on its way
    plan.failed(edit, 0.0, retry_after=30.0)
    assert plan.take(10.0) is None and plan.wait(10.0) == 20.0
    assert drain(plan, 30.0) == [(30.0, 1, "20%")]  # the newer one, once


def test_a_refused_edit_goes_again_unless_a_newer_one_came() -> None:
    plan: EditPlan[str] = EditPlan(Budget(per_minute=60))
    plan.submit(Edit(1, "10%"))
    edit = plan.take(0.0)
    assert edit is not None
    plan.failed(edit, 0.0, retry_after=1.0)
    assert [payload for _, _, payload in drain(plan, 1.0)] == ["10%"]


def test_posts_in_a_channel_burst_then_one_a_second_and_channels_are_apart() -> None:
    posts = ChannelPosts(burst=3, per_second=1.0)
    waits = []
    for _ in range(6):
        waits.append(posts.wait("C1", 0.0))
        posts.take("C1", 0.0)
    assert waits == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]
    assert posts.wait("C2", 0.0) == 0.0
    assert posts.wait("C1", 10.0) == 0.0  # refilled
