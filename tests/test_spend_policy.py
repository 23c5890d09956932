"""The spend policy (issue #22 item 2): its settings, `/tune policy` and `/tune policy set`, the
audit lines of a change, the admin's Home section and form, and each rule at a start through
Slack at its boundary: exactly at the limit starts, one cent over does not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.cli import settings_problems
from bot.config import Settings
from bot.datasets.samples import tutorial_csv
from bot.domain.audit import AuditAction
from bot.domain.policy import (
    PolicyValueError,
    month_of,
    parse_amount,
    parse_approvers,
    parse_starters,
)
from bot.domain.spend import Starters
from bot.presentation.spend import money
from standins.fakeslack import FakeSlack, View
from standins.offline import OfflineStack
from tests.helpers.approvals import dm_of, press, request_message
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    ack_body,
    all_text,
    ephemerals_for,
    next_ephemeral,
    open_start_form,
    running_stack,
    shown_answer,
    store_of,
    upload_file,
    wait_for,
)
from tests.helpers.spend import PRICES, add_job, start_estimate

CENT = Decimal("0.01")


# ------------------------------------------------------------------ settings and syntax


def test_the_policy_settings_are_read_into_the_first_policy() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TUNEBOT_STARTERS="groups:S0TUNERS,<!subteam^S0ML|@ml>",
        TUNEBOT_APPROVAL_ABOVE="USD 50",
        TUNEBOT_MONTHLY_BUDGET_PER_USER="1,000.50",
        TUNEBOT_MONTHLY_BUDGET_PER_CHANNEL="none",
        TUNEBOT_OVER_BUDGET="Approve",
        TUNEBOT_APPROVERS="channel:<#C0FINANCE|finance>",
        TUNEBOT_TIME_ZONE="Asia/Tokyo",
    )
    policy = settings.spend_policy()
    assert policy.starters is Starters.GROUPS and policy.allowed == {"S0TUNERS", "S0ML"}
    assert policy.approval_above == Decimal("50.00")
    assert policy.monthly_budget_per_user == Decimal("1000.50")
    assert policy.monthly_budget_per_channel is None
    assert policy.over_budget.value == "approve" and policy.approvers == {"C0FINANCE"}
    assert settings.zone == ZoneInfo("Asia/Tokyo")
    default = Settings(_env_file=None).spend_policy()  # type: ignore[call-arg]
    assert default.starters is Starters.EVERYONE and not default.limits_cost


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        (
            "TUNEBOT_STARTERS",
            "admins",
            "who may start jobs is everyone, users:U1,U2, groups:S1,S2 or channels:C1,C2",
        ),
        ("TUNEBOT_STARTERS", "users:", "list at least one user id after the colon"),
        ("TUNEBOT_STARTERS", "groups:U0OWNER", '"U0OWNER" is not a Slack user group id'),
        ("TUNEBOT_APPROVAL_ABOVE", "-1", "give an amount such as 50 or 49.99"),
        ("TUNEBOT_MONTHLY_BUDGET_PER_USER", "10.005", "at most two decimals"),
        ("TUNEBOT_MONTHLY_BUDGET_PER_CHANNEL", "lots", "give an amount"),
        ("TUNEBOT_OVER_BUDGET", "warn", "refuse or approve"),
        ("TUNEBOT_APPROVERS", "channel:C1,C2", "one channel (its members approve), not several"),
        ("TUNEBOT_TIME_ZONE", "Mars/Olympus", "an IANA time zone name such as UTC"),
    ],
)
def test_a_bad_policy_setting_stops_tunebot_with_one_line(name: str, value: str, said: str) -> None:
    with pytest.raises(ValueError) as caught:
        Settings(_env_file=None, **{name: value})  # type: ignore[call-arg]
    [line] = settings_problems(caught.value)
    assert line.startswith(f"tunebot: {name}={value} is not valid; ") and said in line, line


def test_the_policy_syntax_takes_ids_as_slack_writes_them() -> None:
    assert parse_starters("users: <@U0A|ann>, W0B") == (Starters.USERS, frozenset({"U0A", "W0B"}))
    assert parse_starters("Everyone") == (Starters.EVERYONE, frozenset())
    assert parse_starters("channels:<#C0A|general>") == (Starters.CHANNELS, frozenset({"C0A"}))
    assert parse_amount("EUR 12", "EUR") == Decimal("12.00") and parse_amount("off") is None
    assert parse_amount("0") == Decimal("0.00")
    with pytest.raises(PolicyValueError):
        parse_amount("EUR 12", "USD")
    assert parse_approvers("U0A,U0B").users == {"U0A", "U0B"}
    assert parse_approvers("<#C0FIN|finance>").channel == "C0FIN"
    assert parse_approvers("none").ids == frozenset()


def test_currency_formatting() -> None:
    assert money(Decimal("1234.5"), "EUR") == "EUR 1,234.50"
    assert money(Decimal("40.01"), "USD") == "USD 40.01"
    assert money(Decimal("0.0042"), "USD") == "USD 0.0042"  # below a cent: not shown as zero
    assert money(Decimal("1234"), "JPY") == "JPY 1,234"  # no minor unit
    assert money(Decimal(0), "USD") == "USD 0.00"


# ------------------------------------------------------------------ /tune policy


async def test_anyone_sees_the_policy_and_only_admins_change_it(stack: OfflineStack) -> None:
    shown = await shown_answer(stack, OWNER, "policy")
    assert "*Spending policy* (from the settings)" in shown
    assert "• Who may start jobs: everyone" in shown and "• Monthly budget per person: no limit" in shown
    assert "policy set" not in shown  # how to change it is for admins
    refused = await shown_answer(stack, OWNER, "policy set budget_per_user 100")
    assert f"Only tunebot admins (<@{ADMIN}>) can change the spending policy" in refused
    assert store_of(stack).spend.policy(stack.workspace.team_id) is None

    admin_view = await shown_answer(stack, ADMIN, "policy")
    assert (
        "Change it with `/tune policy set <key> <value>`" in admin_view
        and "`budget_per_user` (now `none`)" in admin_view
    )
    changed = await shown_answer(stack, ADMIN, "policy set budget_per_user 100")
    assert "Monthly budget per person: `none` → `100.00`" in changed and "audit log" in changed
    changed = await shown_answer(stack, ADMIN, "policy set approvers users:<@U0ADMIN>,U0OTHER")
    assert "Approvers: `none` → `users:U0ADMIN,U0OTHER`" in changed
    again = await shown_answer(stack, ADMIN, "policy set budget_per_user 100.00")
    assert "is already `100.00`; nothing changed" in again

    shown = await shown_answer(stack, OTHER, "policy")
    assert f"(set in Slack by <@{ADMIN}>" in shown and "Monthly budget per person: USD 100.00" in shown
    assert f"Approvers: <@{ADMIN}>, <@{OTHER}>" in shown

    entries = store_of(stack).audit.entries(stack.workspace.team_id)
    assert [(e.action, e.actor_user_id, e.subject) for e in entries] == [
        (AuditAction.POLICY, ADMIN, "budget_per_user"),
        (AuditAction.POLICY, ADMIN, "approvers"),
    ]
    assert entries[0].details == {"key": "budget_per_user", "before": "none", "after": "100.00"}
    assert (entries[0].amount, entries[0].currency) == (100.0, "USD")
    assert entries[1].details["after"] == "users:U0ADMIN,U0OTHER" and entries[1].amount is None

    reset = await shown_answer(stack, ADMIN, "policy reset")
    assert "`100.00` → `none`" in reset
    assert store_of(stack).spend.policy(stack.workspace.team_id) is None
    assert len(store_of(stack).audit.entries(stack.workspace.team_id)) == 4


async def test_policy_mistakes_are_answered_privately_and_specifically(stack: OfflineStack) -> None:
    bad = await shown_answer(stack, ADMIN, "policy set budget_per_user 10.005")
    assert "`budget_per_user` cannot be `10.005`" in bad and "at most two decimals" in bad
    assert "TUNEBOT_MONTHLY_BUDGET_PER_USER takes the same" in bad
    typo = await shown_answer(stack, ADMIN, "policy set budget_per_usr 5")
    assert "There is no policy key `budget_per_usr`. Did you mean `budget_per_user`?" in typo
    starters = await shown_answer(stack, ADMIN, "policy set starters groups:C0GENERAL")
    assert "&quot;" not in starters and '"C0GENERAL" is not a Slack user group id' in starters
    usage = await shown_answer(stack, ADMIN, "policy set starters")
    assert "Usage: `/tune policy` to see it" in usage
    what = await shown_answer(stack, ADMIN, "policy shout <!channel>")
    assert "I don't know `/tune policy shout &lt;!channel&gt;`" in what
    assert store_of(stack).spend.policy(stack.workspace.team_id) is None
    assert not store_of(stack).audit.entries(stack.workspace.team_id)
    assert all(e.user == ADMIN for e in stack.workspace.ephemerals())  # privately


async def test_amounts_are_in_the_price_currency(tmp_path: Path) -> None:
    settings = {"TUNEBOT_PRICE_CURRENCY": "EUR", "TUNEBOT_MONTHLY_BUDGET_PER_CHANNEL": "EUR 1234.5"}
    with running_stack(tmp_path, settings=settings) as stack:
        shown = await shown_answer(stack, OWNER, "policy")
        assert "Monthly budget per channel: EUR 1,234.50" in shown and "Amounts in EUR" in shown
        months = await shown_answer(stack, OWNER, "policy")
        assert "months run in UTC" in months


# ------------------------------------------------------------------ the Home tab


async def opened_home(stack: OfflineStack, user: str) -> View:
    assert stack.sender is not None
    await stack.sender.app_home_opened(user)
    return await wait_for(stack, lambda: stack.workspace.home_view(user))


async def test_the_admin_changes_the_policy_from_the_home_tab(stack: OfflineStack) -> None:
    assert stack.sender is not None and stack.runtime is not None and stack.runtime.ctx.home is not None
    stack.runtime.ctx.home.min_interval = 0.0
    member = await opened_home(stack, OWNER)
    assert "*Spend this month*" in all_text({"blocks": member.blocks})
    assert "Spending policy" not in all_text({"blocks": member.blocks})
    home = await opened_home(stack, ADMIN)
    assert "*Spending policy* (from the settings)" in all_text({"blocks": home.blocks})
    [button] = [
        b["accessory"] for b in home.blocks if b.get("accessory", {}).get("action_id") == "tune_policy_edit"
    ]
    views_before = len(stack.workspace.views(ADMIN))
    await stack.sender.block_action(ADMIN, button["action_id"], button["value"], view=home)
    form = await wait_for(
        stack, lambda: (lambda vs: vs[-1] if len(vs) > views_before else None)(stack.workspace.views(ADMIN))
    )
    assert form.callback_id == "tune_policy"
    initial = {
        b["block_id"]: b["element"]["initial_value"] for b in form.payload["blocks"] if b["type"] == "input"
    }
    assert initial == {
        "starters": "everyone",
        "approval_above": "none",
        "budget_per_user": "none",
        "budget_per_channel": "none",
        "over_budget": "refuse",
        "approvers": "none",
    }

    def values(**changed: str) -> dict[str, Any]:
        return {key: {key: changed.get(key, value)} for key, value in initial.items()}

    bad = await stack.sender.view_submission(ADMIN, form, values(budget_per_user="-3", over_budget="maybe"))
    errors = bad.json()["errors"]
    assert bad.json()["response_action"] == "errors" and set(errors) == {"budget_per_user", "over_budget"}
    assert "`" not in errors["budget_per_user"] and "not negative" in errors["budget_per_user"]
    assert store_of(stack).spend.policy(stack.workspace.team_id) is None

    forged = await stack.sender.view_submission(OWNER, form, values(budget_per_user="1"))
    assert forged.json()["response_action"] == "errors"
    assert store_of(stack).spend.policy(stack.workspace.team_id) is None

    good = await stack.sender.view_submission(
        ADMIN, form, values(budget_per_user="75", starters="users:U0OWNER")
    )
    assert good.status_code == 200 and not good.text.strip()
    dm = "D" + ADMIN[1:]
    await wait_for(stack, lambda: any("`none` → `75.00`" in m.text for m in stack.workspace.messages(dm)))
    await wait_for(stack, lambda: "Monthly budget per person: USD 75.00" in all_text({"blocks": home.blocks}))
    entries = store_of(stack).audit.entries(stack.workspace.team_id)
    assert {e.subject for e in entries} == {"budget_per_user", "starters"}
    assert all(e.actor_user_id == ADMIN and e.action is AuditAction.POLICY for e in entries)


# ------------------------------------------------------------------ at a start, through Slack


async def set_policy(stack: OfflineStack, key: str, value: str) -> None:
    answer = await shown_answer(stack, ADMIN, f"policy set {key} {value}")
    assert "→" in answer or "already" in answer, answer


async def start(stack: OfflineStack, user: str, channel: str = CHANNEL) -> str:
    """`/tune start tutorial epochs=1`: the ack's text (a refusal, or "starting")."""
    assert stack.sender is not None
    sent = await stack.sender.slash_command(user, "start tutorial epochs=1", channel_id=channel)
    return str(ack_body(sent).get("text"))


def jobs_of(stack: OfflineStack, user: str) -> int:
    return len(store_of(stack).jobs.for_owner(stack.workspace.team_id, user))


@pytest.fixture
def priced(tmp_path: Path) -> Any:
    with running_stack(tmp_path, settings=PRICES) as stack:
        yield stack


async def uploaded(stack: OfflineStack) -> Decimal:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    return start_estimate(stack, "tutorial")


async def test_a_person_budget_at_its_limit_starts_and_one_cent_over_is_refused(priced: OfflineStack) -> None:
    stack = priced
    estimate = await uploaded(stack)
    team = stack.workspace.team_id
    add_job(store_of(stack), team, OWNER, counted="60.00", estimated="70.00")  # counted wins
    add_job(store_of(stack), team, OTHER, counted="500.00")  # someone else's
    add_job(
        store_of(stack), team, OWNER, estimated="900.00", at=month_of_now_start(stack) - timedelta(hours=1)
    )
    add_job(store_of(stack), team, OWNER, estimated="900.00", state="failed")  # never counted: free

    await set_policy(stack, "budget_per_user", f"{Decimal('60.00') + estimate - CENT:.2f}")
    refused = await start(stack, OWNER)
    assert refused.startswith(":no_entry: Not started: your monthly budget is ")
    limit = money(Decimal("60.00") + estimate - CENT, "USD")
    assert f"your monthly budget is {limit} and you have spent USD 60.00 this month" in refused
    assert f"this job is estimated at {money(estimate, 'USD')}" in refused
    assert jobs_of(stack, OWNER) == 3  # nothing was started
    assert all(e.user == OWNER for e in stack.workspace.ephemerals())

    await set_policy(stack, "budget_per_user", f"{Decimal('60.00') + estimate:.2f}")
    await start(stack, OWNER)  # exactly at the limit
    await wait_for(stack, lambda: jobs_of(stack, OWNER) == 4)
    # The job just started counts at its estimate: the budget is used up.
    again = await start(stack, OWNER)
    assert f"you have spent {money(Decimal('60.00') + estimate, 'USD')} this month" in again
    assert jobs_of(stack, OWNER) == 4


def month_of_now_start(stack: OfflineStack) -> Any:
    from bot.storage.models import utcnow

    assert stack.runtime is not None
    return month_of(utcnow(), stack.runtime.settings.zone).start


async def test_a_channel_budget_asks_for_approval_one_cent_over(priced: OfflineStack) -> None:
    stack = priced
    estimate = await uploaded(stack)
    add_job(store_of(stack), stack.workspace.team_id, OTHER, counted="10.00")  # in the channel
    await set_policy(stack, "over_budget", "approve")
    await set_policy(stack, "approvers", f"users:{ADMIN}")
    await set_policy(stack, "budget_per_channel", f"{Decimal('10.00') + estimate - CENT:.2f}")
    asked = await start(stack, OWNER)
    limit = money(Decimal("10.00") + estimate - CENT, "USD")
    rule = f"it would take <#{CHANNEL}> past its monthly budget of {limit}"
    assert asked.startswith(f":raised_hand: This start needs an approval: {rule}")
    assert f"I asked <@{ADMIN}>" in asked and jobs_of(stack, OWNER) == 0
    # The approver the admin set in Slack gets the request, and may approve it: the job starts.
    message = await request_message(stack, dm_of(ADMIN))
    await press(stack, ADMIN, message, "Approve")
    await wait_for(stack, lambda: jobs_of(stack, OWNER) == 1)

    await set_policy(stack, "budget_per_channel", f"{Decimal('10.00') + estimate * 2:.2f}")
    await start(stack, OWNER)  # exactly at the limit (the approved job counts at its estimate)
    await wait_for(stack, lambda: jobs_of(stack, OWNER) == 2)


async def test_one_job_above_the_approval_threshold_waits_for_an_approver(priced: OfflineStack) -> None:
    stack = priced
    estimate = await uploaded(stack)
    stack.workspace.add_channel("C0FINANCE", "finance")
    await set_policy(stack, "approvers", "channel:C0FINANCE")
    await set_policy(stack, "approval_above", f"{estimate:.2f}")
    await start(stack, OWNER)  # exactly at the threshold: no approval needed
    await wait_for(stack, lambda: jobs_of(stack, OWNER) == 1)
    await set_policy(stack, "approval_above", f"{estimate - CENT:.2f}")
    asked = await start(stack, OWNER)
    assert f"its estimate is over {money(estimate - CENT, 'USD')}, the most a job may cost" in asked
    assert "I asked the approvers in <#C0FINANCE>" in asked
    await request_message(stack, "C0FINANCE")
    assert jobs_of(stack, OWNER) == 1


async def test_without_a_price_a_cost_limit_asks_for_approval(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await set_policy(stack, "approval_above", "5")
    asked = await start(stack, OWNER)
    # No approvers are set: the admins are asked.
    assert "its cost cannot be estimated" in asked and f"I asked <@{ADMIN}>" in asked
    assert jobs_of(stack, OWNER) == 0


async def test_who_may_start_by_listed_users(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await set_policy(stack, "starters", f"users:{OTHER}")
    refused = await start(stack, OWNER)
    assert refused.startswith(f":no_entry: Only <@{OTHER}> may start tuning jobs")
    assert jobs_of(stack, OWNER) == 0
    await start(stack, OTHER)
    await wait_for(stack, lambda: jobs_of(stack, OTHER) == 1)


async def test_who_may_start_by_user_group(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    stack.workspace.add_usergroup("S0TUNERS", OTHER, ADMIN)
    await set_policy(stack, "starters", "groups:S0TUNERS,S0GONE")  # S0GONE: Slack knows no such group
    refused = await start(stack, OWNER)
    assert "Only members of the user groups `S0GONE`, `S0TUNERS` may start tuning jobs" in refused
    await start(stack, OTHER)
    await wait_for(stack, lambda: jobs_of(stack, OTHER) == 1)
    assert jobs_of(stack, OWNER) == 0
    calls = stack.workspace.calls("usergroups.users.list")
    assert {c.params.get("usergroup") for c in calls} == {"S0TUNERS", "S0GONE"}


async def test_a_slow_slack_never_holds_a_start_past_its_ack(stack: OfflineStack) -> None:
    assert stack.runtime is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    stack.workspace.add_usergroup("S0TUNERS", OWNER)
    await set_policy(stack, "starters", "groups:S0TUNERS")
    stack.runtime.ctx.groups.timeout = 0.2
    stack.workspace.delay("usergroups.users.list", 1.0)
    slow = await start(stack, OWNER)
    assert "Slack did not tell me in time whether you are one" in slow and jobs_of(stack, OWNER) == 0
    stack.workspace.fail("usergroups.users.list", "ratelimited", status=429)
    stack.runtime.ctx.client.retry_handlers.clear()  # the 429 comes back at once, as a failure
    assert "did not tell me in time" in await start(stack, OWNER)
    await start(stack, OWNER)  # Slack answers again: a member starts (and the answer is kept)
    await wait_for(stack, lambda: jobs_of(stack, OWNER) == 1)


async def test_who_may_start_from_listed_channels(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    stack.workspace.add_channel("C0TUNING", "tuning")
    await set_policy(stack, "starters", "channels:C0TUNING")
    refused = await start(stack, OWNER)
    assert refused.startswith(":no_entry: Tuning jobs may only be started from <#C0TUNING>")
    await start(stack, OWNER, channel="C0TUNING")
    await wait_for(stack, lambda: jobs_of(stack, OWNER) == 1)


async def test_the_start_form_is_refused_the_same_way(priced: OfflineStack) -> None:
    stack = priced
    assert stack.sender is not None
    estimate = await uploaded(stack)
    await set_policy(stack, "budget_per_user", f"{estimate - CENT:.2f}")
    view = await open_start_form(stack, OWNER)
    fields: dict[str, Any] = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "tutorial"}}},
        "epochs": {"epochs": "1"},
    }
    seen = len(ephemerals_for(stack, OWNER))
    await stack.sender.view_submission(OWNER, view, fields)
    note = await next_ephemeral(stack, OWNER, seen)
    assert "Not started: your monthly budget is" in note.text and "you have spent USD 0.00" in note.text
    assert jobs_of(stack, OWNER) == 0


# ------------------------------------------------------------------ the fake Slack's directory


async def test_the_fake_slack_lists_user_groups_and_channels_as_slack_does(fake_slack: FakeSlack) -> None:
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    ws = fake_slack.workspace
    client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    ws.add_user(OWNER, "olivia")
    ws.add_usergroup("S0TUNERS", OWNER, OTHER)
    answer = await client.usergroups_users_list(usergroup="S0TUNERS")
    assert answer.data == {"ok": True, "users": [OWNER, OTHER]}
    for arguments, error in (({"usergroup": "S0NOPE"}, "no_such_subteam"), ({}, "invalid_arguments")):
        with pytest.raises(SlackApiError) as caught:
            await client.api_call("usergroups.users.list", params=arguments)
        assert caught.value.response["error"] == error
    ws.missing_scopes.add("usergroups:read")
    with pytest.raises(SlackApiError) as caught:
        await client.usergroups_users_list(usergroup="S0TUNERS")
    assert caught.value.response["error"] == "missing_scope"

    ws.add_channel("C0SECRET", "secret", is_private=True, bot_is_member=False)
    ws.add_channel("C0SHARED", "shared", is_private=True)
    ws.add_members("C0GENERAL", OWNER)
    ws.add_members("C0SECRET", OWNER)
    ws.add_members("C0SHARED", OWNER)
    public = await client.users_conversations(user=OWNER)
    assert [c["id"] for c in public["channels"]] == ["C0GENERAL"]
    both = await client.users_conversations(user=OWNER, types="public_channel,private_channel", limit=1)
    assert [c["id"] for c in both["channels"]] == ["C0GENERAL"] and both["response_metadata"]["next_cursor"]
    rest = await client.users_conversations(
        user=OWNER, types="public_channel,private_channel", cursor=both["response_metadata"]["next_cursor"]
    )
    assert [c["id"] for c in rest["channels"]] == ["C0SHARED"]  # not a private channel the bot is not in
    with pytest.raises(SlackApiError) as caught:
        await client.users_conversations(user="U0NOBODY")
    assert caught.value.response["error"] == "user_not_found"


async def test_a_budget_counts_the_month_of_the_workspaces_time_zone(tmp_path: Path) -> None:
    from bot.storage.models import utcnow

    tokyo = ZoneInfo("Asia/Tokyo")
    with running_stack(tmp_path, settings=PRICES | {"TUNEBOT_TIME_ZONE": "Asia/Tokyo"}) as stack:
        estimate = await uploaded(stack)
        team = stack.workspace.team_id
        month = month_of(utcnow(), tokyo)
        # 00:30 on the 1st in Tokyo is the day before in UTC, in UTC's previous month: it counts.
        early = month.start + timedelta(minutes=30)
        assert month_of(early, ZoneInfo("UTC")).label != month.label
        add_job(store_of(stack), team, OWNER, counted="60.00", at=early)
        # 23:30 on the last day before, in Tokyo: last month's, whatever UTC says.
        add_job(store_of(stack), team, OWNER, counted="900.00", at=month.start - timedelta(minutes=30))
        await set_policy(stack, "budget_per_user", f"{Decimal('60.00') + estimate - CENT:.2f}")
        refused = await start(stack, OWNER)
        assert f"you have spent USD 60.00 this month ({month.label})" in refused
        await set_policy(stack, "budget_per_user", f"{Decimal('60.00') + estimate:.2f}")
        await start(stack, OWNER)
        await wait_for(stack, lambda: jobs_of(stack, OWNER) == 3)
