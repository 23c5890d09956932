"""The Home tab's spend sections (issue #22): the month's bill for everyone, and for admins the
spending policy with a button to its form."""

from __future__ import annotations

from typing import Any

from bot.domain.policy import PolicyKey, policy_values
from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.blocks import Block, context, plain, section
from bot.presentation.spend import (
    KEY_LABELS,
    KEY_SYNTAX,
    _lines,
    _listed,
    _origin,
    _pending_lines,
    _running_lines,
    _scope,
    _where,
    _who,
    money,
    policy_lines,
)
from bot.services.spend import Bill, TeamPolicy

ACTION_EDIT_POLICY = "tune_policy_edit"
POLICY_CALLBACK = "tune_policy"
HOME_LINES_SHOWN = 5


def home_spend_blocks(bill: Bill, *, team: TeamPolicy | None, zone: str) -> list[Block]:
    """The Home tab's bill (everyone) and, for an admin (`team` given), the policy and a
    button to change it."""
    currency = bill.currency
    total = bill.total
    blocks: list[Block] = [
        {"type": "divider"},
        section(
            f"*Spend this month* ({bill.month.label}, {_scope(bill)}): *{money(total.total, currency)}* "
            f"· estimated {money(total.estimated, currency)} · counted {money(total.counted, currency)}"
        ),
    ]
    lines = _lines(bill.people, currency, _who, HOME_LINES_SHOWN)
    lines += _lines(bill.channels, currency, _where, HOME_LINES_SHOWN)
    lines += _running_lines(bill, HOME_LINES_SHOWN)
    lines += _pending_lines(bill, HOME_LINES_SHOWN)
    if lines:
        blocks.append(_listed("*This month*", lines))
    blocks.append(context(f"Months run in {esc(zone)}. `/tune spend` shows the whole bill and sends a CSV."))
    if team is not None:
        text = f"*Spending policy* ({_origin(team)})\n" + "\n".join(policy_lines(team.policy))
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": text},
                "accessory": {
                    "type": "button",
                    "action_id": ACTION_EDIT_POLICY,
                    "text": plain("Change policy"),
                    "value": "policy",
                },
            }
        )
    return blocks


def policy_modal(team: TeamPolicy) -> dict[str, Any]:
    """The admin's form: every key, filled with its value as the settings write it."""
    values = policy_values(team.policy)
    blocks: list[Block] = [
        context(f"Amounts in {esc(team.policy.currency)}. Every change goes to the audit log.")
    ]
    for key in PolicyKey:
        blocks.append(
            {
                "type": "input",
                "block_id": key.value,
                "label": plain(KEY_LABELS[key]),
                "hint": plain(KEY_SYNTAX[key]),
                "element": {
                    "type": "plain_text_input",
                    "action_id": key.value,
                    "initial_value": values[key],
                    "max_length": 2000,
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": POLICY_CALLBACK,
        "title": plain("Spending policy"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }
