"""The live bill and budget notices (issue #22 items 4 and 5, first half): `/tune spend` for an
admin (everyone) and a member (themselves and their channels), months in the workspace's time
zone, the CSV for finance (every cell safe in a spreadsheet), the Home tab's section, and the
"80 % of your budget" notice: once across poll cycles, a restart and a lost answer."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.policy import month_of, parse_month
from bot.slack.notices import BudgetNotices
from bot.storage.models import utcnow
from bot.storage.store import Store
from standins.offline import OfflineStack
from tests.helpers.databases import postgres_schema_url, sqlite_url
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    running_stack,
    shown_answer,
    store_of,
    wait_for,
)
from tests.helpers.spend import add_job

TOKYO = ZoneInfo("Asia/Tokyo")
# 23:30 on 30 November in Tokyo (November there and in UTC), and 01:00 on 1 December in Tokyo
# (still 30 November in UTC): the month a job counts in is the workspace's.
NOV_30_LATE_TOKYO = datetime(2026, 11, 30, 14, 30, tzinfo=UTC)
DEC_1_EARLY_TOKYO = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
PRIVATE = "C0SECRET"
OWNER_DM = "D" + OWNER[1:]


def test_a_calendar_month_in_the_workspaces_time_zone() -> None:
    assert month_of(NOV_30_LATE_TOKYO, TOKYO).label == "2026-11"
    assert month_of(DEC_1_EARLY_TOKYO, TOKYO).label == "2026-12"
    assert month_of(DEC_1_EARLY_TOKYO, ZoneInfo("UTC")).label == "2026-11"
    december = parse_month("2026-12", TOKYO)
    assert december.start_utc == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert december.end_utc == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    assert december.holds(DEC_1_EARLY_TOKYO) and not december.holds(NOV_30_LATE_TOKYO)


async def test_spend_months_run_in_the_workspaces_time_zone(tmp_path: Path) -> None:
    with running_stack(tmp_path, settings={"TUNEBOT_TIME_ZONE": "Asia/Tokyo"}) as stack:
        team = stack.workspace.team_id
        add_job(store_of(stack), team, OWNER, counted="30.00", at=NOV_30_LATE_TOKYO, name="late")
        add_job(store_of(stack), team, OWNER, counted="12.00", at=DEC_1_EARLY_TOKYO, name="early")
        november = await shown_answer(stack, ADMIN, "spend 2026-11")
        assert (
            "*Spend in 2026-11* — everyone: *USD 30.00*" in november
            and "Months run in Asia/Tokyo" in november
        )
        december = await shown_answer(stack, ADMIN, "spend 2026-12")
        assert "*Spend in 2026-12* — everyone: *USD 12.00*" in december
    (tmp_path / "utc").mkdir()
    with running_stack(tmp_path / "utc") as stack:  # the same jobs in a UTC workspace: both November's
        team = stack.workspace.team_id
        add_job(store_of(stack), team, OWNER, counted="30.00", at=NOV_30_LATE_TOKYO, name="late")
        add_job(store_of(stack), team, OWNER, counted="12.00", at=DEC_1_EARLY_TOKYO, name="early")
        assert "everyone: *USD 42.00*" in await shown_answer(stack, ADMIN, "spend 2026-11")


def jobs_in_three_channels(stack: OfflineStack) -> None:
    """OWNER is in #general; OTHER spends in #general and in a channel OWNER is not in."""
    team = stack.workspace.team_id
    stack.workspace.add_channel(PRIVATE, "secret", is_private=True)
    stack.workspace.add_members(CHANNEL, OWNER, OTHER)
    stack.workspace.add_members(PRIVATE, OTHER)
    store = store_of(stack)
    add_job(store, team, OWNER, counted="20.00", estimated="25.00", name="mine counted")
    add_job(store, team, OWNER, estimated="5.50", name="mine estimated", state="running", percent=40.0)
    add_job(store, team, OTHER, counted="7.00", estimated="6.00", name="theirs here")
    add_job(store, team, OTHER, channel=PRIVATE, counted="100.00", name="their secret")
    add_job(store, team, ADMIN, channel="D0ADMIN", estimated="1.00", name="admin in a DM")


async def test_an_admin_sees_everyone_and_a_member_themselves_and_their_channels(stack: OfflineStack) -> None:
    jobs_in_three_channels(stack)
    everyone = await shown_answer(stack, ADMIN, "spend")
    month = month_of(utcnow(), ZoneInfo("UTC")).label
    assert f"*Spend in {month}* — everyone: *USD 133.50*" in everyone
    assert "(estimated USD 37.50, counted USD 127.00)" in everyone
    assert f"• <@{OTHER}> — *USD 107.00* · estimated USD 6.00 · counted USD 107.00 (2 of 2 jobs)" in everyone
    assert f"• <@{OWNER}> — *USD 25.50* · estimated USD 30.50 · counted USD 20.00 (1 of 2 jobs)" in everyone
    assert f"<#{PRIVATE}> — *USD 100.00*" in everyone and f"<@{ADMIN}> — *USD 1.00*" in everyone
    assert "• a DM with tunebot (`D0ADMIN`) — *USD 1.00*" in everyone
    assert "*mine estimated* by <@U0OWNER> — ≈ USD 2.20 so far of ≈ USD 5.50 (40% trained)" in everyone
    assert "still billing" in everyone

    mine = await shown_answer(stack, OWNER, "spend")
    assert "— you and the channels you are in: *USD 32.50*" in mine
    assert f"• <@{OWNER}> — *USD 25.50*" in mine and f"<@{OTHER}> —" not in mine
    assert f"• <#{CHANNEL}> — *USD 32.50*" in mine  # their channel, with OTHER's job in it
    assert PRIVATE not in mine and "their secret" not in mine and "D0ADMIN" not in mine
    assert "USD 100.00" not in mine
    calls = stack.workspace.calls("users.conversations")
    assert [c.params.get("user") for c in calls] == [OWNER]  # an admin's bill needs no lookup

    stack.workspace.fail("users.conversations", "user_not_found")
    alone = await shown_answer(stack, OWNER, "spend")
    assert "— you (I could not read which channels you are in): *USD 25.50*" in alone


async def test_the_csv_for_finance_is_safe_to_open_in_a_spreadsheet(stack: OfflineStack) -> None:
    team = stack.workspace.team_id
    add_job(store_of(stack), team, OWNER, counted="3.25", estimated="4.00", name='=HYPERLINK("http://x","y")')
    add_job(store_of(stack), team, OWNER, estimated="1.5", name="+SUM(A1)", state="running", percent=10.0)
    answer = await shown_answer(stack, OWNER, "spend csv")
    assert "is in a CSV in your DM with me" in answer
    [shared] = [f for f in stack.workspace.uploads(OWNER_DM) if f.name.startswith("tunebot-spend-")]
    rows = list(csv.reader(io.StringIO(shared.content.decode("utf-8"))))
    assert rows[0][:4] == ["month", "job_id", "job", "owner"]
    assert rows[1][2] == '\'=HYPERLINK("http://x","y")' and rows[2][2] == "'+SUM(A1)"
    assert rows[1][8:13] == ["4.0000", "3.2500", "3.2500", "USD", "no"]
    assert rows[2][8:13] == ["1.5000", "", "1.5000", "USD", "yes"]
    assert b'"=' not in shared.content and b'"+' not in shared.content


async def test_a_bad_month_is_answered_privately(stack: OfflineStack) -> None:
    answer = await shown_answer(stack, OWNER, "spend 2026-13")
    assert "`2026-13` is not a month: give one as `YYYY-MM`" in answer


async def test_the_home_tab_shows_the_months_spend(stack: OfflineStack) -> None:
    assert stack.sender is not None and stack.runtime is not None and stack.runtime.ctx.home is not None
    jobs_in_three_channels(stack)
    await stack.sender.app_home_opened(OWNER)
    view = await wait_for(stack, lambda: stack.workspace.home_view(OWNER))
    text = all_text({"blocks": view.blocks})
    assert "you and the channels you are in): *USD 32.50*" in text and "still billing" in text
    assert PRIVATE not in text and "Spending policy" not in text


# ------------------------------------------------------------------ budget notices


def notices_in(stack: OfflineStack, dm: str) -> list[str]:
    return [m.text for m in stack.workspace.messages(dm) if "monthly tuning budget" in m.text]


async def test_the_80_percent_notice_comes_once_across_cycles_replicas_and_a_restart(tmp_path: Path) -> None:
    settings = {"TUNEBOT_MONTHLY_BUDGET_PER_USER": "100"}
    with running_stack(tmp_path, settings=settings) as stack:
        team = stack.workspace.team_id
        store = store_of(stack)
        add_job(store, team, OWNER, counted="80.00")  # exactly 80 %: not past it
        add_job(store, team, OTHER, estimated="79.00")
        await stack.poll()
        assert not notices_in(stack, OWNER_DM) and not store.spend.notices(team)

        add_job(store, team, OWNER, estimated="0.01")  # one cent past 80 %
        await stack.poll()
        await stack.poll()
        [notice] = notices_in(stack, OWNER_DM)
        assert "You have spent USD 80.01 of your USD 100.00 monthly tuning budget" in notice
        assert "past 80%" in notice

        assert stack.runtime is not None
        other_replica = BudgetNotices(
            store, stack.runtime.ctx.client, stack.runtime.settings, owner="replica-2", lease_seconds=120
        )
        await other_replica.run_due()
        stack.restart_bot()
        await stack.poll()
        assert len(notices_in(stack, OWNER_DM)) == 1
        assert not notices_in(stack, "D" + OTHER[1:])
        [row] = store_of(stack).spend.notices(team)
        assert (row.subject_id, row.state, row.mark) == (OWNER, "posted", 80) and row.message_ts


async def test_a_notice_slack_stored_but_answered_500_is_not_posted_again(tmp_path: Path) -> None:
    with running_stack(tmp_path, settings={"TUNEBOT_MONTHLY_BUDGET_PER_USER": "10"}) as stack:
        team = stack.workspace.team_id
        add_job(store_of(stack), team, OTHER, counted="9.00")
        stack.workspace.fail_after_storing("chat.postMessage")
        await stack.poll()
        await stack.poll()
        other_dm = "D" + OTHER[1:]
        assert len(notices_in(stack, other_dm)) == 1
        [row] = store_of(stack).spend.notices(team)
        assert row.state == "posted"


async def test_a_notice_claimed_by_a_process_that_died_is_looked_for_then_posted(tmp_path: Path) -> None:
    with running_stack(tmp_path, settings={"TUNEBOT_MONTHLY_BUDGET_PER_USER": "10"}) as stack:
        team = stack.workspace.team_id
        store = store_of(stack)
        add_job(store, team, OWNER, counted="9.00")
        month = month_of(utcnow(), ZoneInfo("UTC")).label
        claimed = store.spend.claim_notice(
            team_id=team,
            month=month,
            budget="user",
            subject_id=OWNER,
            mark=80,
            owner="dead",
            lease_seconds=-1,
        )
        assert claimed is not None and claimed[1]
        await stack.poll()  # its claim expired: this process looks in the DM, finds nothing, posts
        await stack.poll()
        assert len(notices_in(stack, OWNER_DM)) == 1


async def test_a_long_bill_fits_in_slacks_limits(stack: OfflineStack) -> None:
    team = stack.workspace.team_id
    for index in range(60):
        add_job(
            store_of(stack), team, f"U0P{index:03d}", channel=f"C0X{index:03d}", counted="1.00", name="x" * 80
        )
        add_job(store_of(stack), team, OWNER, estimated="2.00", name="y" * 80, state="running", percent=50.0)
    answer = await shown_answer(stack, ADMIN, "spend")
    assert "*USD 180.00*" in answer and "more (in the CSV)" in answer


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema_url(time_zone="Asia/Tokyo") as url:  # a server in another zone
            yield url


def test_two_replicas_claim_a_notice_once_and_months_hold_on_each_database(database_url: str) -> None:
    stores = [Store.from_url(database_url), Store.from_url(database_url)]
    try:
        key = {"team_id": "T1", "month": "2026-12", "budget": "user", "subject_id": "U1", "mark": 80}
        with ThreadPoolExecutor(8) as pool:
            claims = list(
                pool.map(
                    lambda n: stores[n % 2].spend.claim_notice(**key, owner=f"replica-{n}", lease_seconds=60),
                    range(8),
                )
            )
        won = [claim for claim in claims if claim is not None]
        assert len(won) == 1 and won[0][1]  # one fresh claim; the others found it held
        notice = won[0][0]
        assert notice.id is not None and notice.claimed_by is not None
        stores[1].spend.release_notice(notice.id, owner=notice.claimed_by)  # its post failed
        again = stores[0].spend.claim_notice(**key, owner="replica-9", lease_seconds=60)
        assert again is not None and not again[1]  # taken over: look in the DM first
        stores[0].spend.notice_posted(notice.id, owner="replica-9", message_ts="1.2")
        assert stores[1].spend.claim_notice(**key, owner="replica-10", lease_seconds=-1) is None
        [row] = stores[1].spend.notices("T1")
        assert (row.state, row.message_ts) == ("posted", "1.2")

        add_job(stores[0], "T1", "U1", counted="30.00", at=NOV_30_LATE_TOKYO, name="late")
        add_job(stores[0], "T1", "U1", counted="12.00", at=DEC_1_EARLY_TOKYO, name="early")
        december = parse_month("2026-12", TOKYO)
        assert [
            j.display_name for j in stores[1].spend.job_costs("T1", december.start_utc, december.end_utc)
        ] == ["early"]
    finally:
        for store in stores:
            store.engine.dispose()


async def test_a_notice_slack_will_never_take_is_given_up(tmp_path: Path) -> None:
    with running_stack(tmp_path, settings={"TUNEBOT_MONTHLY_BUDGET_PER_USER": "10"}) as stack:
        team = stack.workspace.team_id
        add_job(store_of(stack), team, "U0GONE", counted="9.00")  # Slack knows no such person
        await stack.poll()
        await stack.poll()
        [row] = store_of(stack).spend.notices(team)
        assert row.state == "undeliverable"
        opens = [c for c in stack.workspace.calls("conversations.open") if c.params.get("users") == "U0GONE"]
        assert len(opens) == 1  # not asked again every cycle


async def test_the_bill_lists_the_requests_waiting_for_approval(stack: OfflineStack) -> None:
    from tests.helpers.approvals import ask, upload_tutorial

    stack.workspace.add_members(CHANNEL, OWNER)
    await upload_tutorial(stack)
    await ask(stack, estimate="12.50")
    everyone = await shown_answer(stack, ADMIN, "spend")
    assert "*Waiting for approval*" in everyone
    assert f"• <@{OWNER}>: tutorial on " in everyone and "— USD 12.50" in everyone
    mine = await shown_answer(stack, OWNER, "spend")
    assert "*Waiting for approval*" in mine
    theirs = await shown_answer(stack, OTHER, "spend")  # not theirs, not in a channel of theirs
    assert "Waiting for approval" not in theirs
