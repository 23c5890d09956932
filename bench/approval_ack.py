"""An Approve click's ack latency: bursts of concurrent signed `block_actions` requests.

The bot is a real `tunebot run` process in HTTP mode (as `bench/ack_latency.py` runs it), its
database seeded with pending approval requests. Each burst, every approver (10) clicks Approve
on the same request at once: one click wins and starts the job (which fails at once here: the
seeded request names no dataset), nine are told it was decided, so the acks are measured while
that work runs. Each request is timed from writing it until the whole answer is read.

Baseline, the HTTP floor: the same bursts against the bot's own `/healthz`, in the same run.
An Approve click is acked before its trigger_id is remembered (bot/slack/dedupe.py
DECIDED_ONCE_ACTIONS: the decision itself is made once in the database), so concurrent clicks
do not queue for the database before their ack.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.ack_latency import HEALTH, SECRET, _start_bot, _timed, ack_rows
from bench.common import Section
from bench.stand_ins import StandIns
from bot.domain.approvals import ApprovalState, button_value
from bot.domain.audit import AuditAction
from bot.storage.models import ApprovalRequest, utcnow
from bot.storage.repositories.approvals import AuditLine
from bot.storage.store import Store

TARGET_P99 = 0.100
TEAM = "T0TEAM"
APPROVERS = [f"U0APPROVER{n}" for n in range(10)]
PER_BURST = 1  # requests approved in one burst, each clicked by every approver at once
STARTS = json.dumps(
    [
        {
            "args": {"dataset": "bench", "display_name": None},
            "dataset_id": 1,
            "dataset_name": "bench",
            "base_model": "models/gemini-1.5-flash-001-tuning",
        }
    ]
)


def _seed(database_url: str, count: int) -> list[str]:
    """`count` pending requests; their Approve buttons' values."""
    store = Store.from_url(database_url)
    values = []
    now = utcnow()
    for _ in range(count):
        request = store.approvals.create(
            ApprovalRequest(
                team_id=TEAM,
                requester_user_id="U0BENCHREQ",
                channel_id="C0GENERAL",
                starts=STARTS,
                amount=12.5,
                currency="USD",
                rule="approval_above",
                state=ApprovalState.PENDING.value,
                nonce=secrets.token_hex(12),
                expires_at=now + timedelta(hours=24),
                created_at=now,
                updated_at=now,
            ),
            [],
            AuditLine(AuditAction.REQUEST, "U0BENCHREQ", {}),
        )
        assert request.id is not None
        values.append(button_value(request.id, request.nonce))
    store.engine.dispose()
    return values


def signed_click(user: str, value: str, response_url: str) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0TUNEBOT",
        "team": {"id": TEAM, "domain": "bench"},
        "channel": {"id": "D" + user[1:], "name": "directmessage"},
        "container": {"type": "message", "channel_id": "D" + user[1:], "message_ts": "1.000001"},
        "trigger_id": f"bench.{user}.{time.monotonic_ns()}.{secrets.token_hex(4)}",
        "response_url": response_url,
        "actions": [
            {
                "action_id": "tune_approval_approve",
                "block_id": "b",
                "type": "button",
                "value": value,
                "action_ts": "1.1",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    timestamp = str(int(time.time()))
    signature = (
        "v0="
        + hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    )
    head = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {signature}\r\n\r\n"
    )
    return head.encode() + body


async def _bursts(
    port: int, values: list[str], response_url: str, bursts: int
) -> tuple[list[float], list[int], list[float]]:
    acks: list[float] = []
    statuses: list[int] = []
    floor: list[float] = []
    per_burst = PER_BURST
    for burst in range(bursts + 1):  # the first burst warms up and is not counted
        chosen = values[burst * per_burst : (burst + 1) * per_burst]
        requests = [signed_click(user, value, response_url) for value in chosen for user in APPROVERS]
        results = await asyncio.gather(*(_timed(port, r) for r in requests))
        await asyncio.sleep(0.5)
        health = await asyncio.gather(*(_timed(port, HEALTH) for _ in requests))
        await asyncio.sleep(0.2)
        if burst:
            acks.extend(e for e, _ in results)
            statuses.extend(s for _, s in results)
            floor.extend(e for e, _ in health)
    return acks, statuses, floor


def run(quick: bool = False) -> Section:
    bursts = 2 if quick else 6
    with tempfile.TemporaryDirectory(prefix="tunebot-bench-") as tmp, StandIns() as stand_ins:
        workdir = Path(tmp)
        database_url = f"sqlite:///{workdir / 'tunebot.db'}"
        values = _seed(database_url, (bursts + 1) * PER_BURST)
        process, port = _start_bot(stand_ins, workdir, {"TUNEBOT_APPROVERS": ",".join(APPROVERS)})
        try:
            acks, statuses, floor = asyncio.run(
                _bursts(port, values, stand_ins.slack_url + "/response/bench", bursts)
            )
        finally:
            process.terminate()
            process.wait(10)
    bad = [s for s in statuses if s != 200]
    clicks = len(APPROVERS) * PER_BURST
    label = f"Approve click ack, {clicks} concurrent signed clicks on {PER_BURST} request(s), {bursts} bursts"
    rows = ack_rows(label, acks, floor, ok=not bad, target_p99=TARGET_P99)
    details = {
        "clicks": len(acks),
        "non_200": len(bad),
        "max_ms": round(max(acks) * 1000, 2),
        "setup": "tunebot run (HTTP mode) as its own process, its SQLite seeded with pending requests",
    }
    return Section("approval_ack", rows, details)
