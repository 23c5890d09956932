"""Slack is answered the moment a listener acks, and the listener's work carries on after
(bot/slack/acks.py): Bolt on its own checked for the ack every 10 ms."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.slack.acks import Ack, answer_at_ack, in_background, settled


class RecordingAck:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


async def test_the_answer_goes_out_at_the_ack_while_the_work_goes_on() -> None:
    ack, gate, steps = RecordingAck(), asyncio.Event(), []

    async def listener(acked: Ack) -> None:
        await acked(text="Starting…")
        steps.append("acked")
        await gate.wait()  # slow work after the ack (an upload, a Vertex call)
        steps.append("done")

    await answer_at_ack(listener, ack, kind="/tune")
    assert ack.calls == [{"text": "Starting…"}] and steps == ["acked"]
    gate.set()
    await settled()
    assert steps == ["acked", "done"]


async def test_a_listener_that_fails_before_acking_lets_bolt_answer_the_error() -> None:
    ack = RecordingAck()

    async def listener(acked: Ack) -> None:
        raise RuntimeError("the database is gone")

    with pytest.raises(RuntimeError, match="database"):
        await answer_at_ack(listener, ack, kind="/tune")
    assert ack.calls == []


async def test_a_failure_after_the_ack_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    ack, gate = RecordingAck(), asyncio.Event()

    async def listener(acked: Ack) -> None:
        await acked()
        await gate.wait()
        raise RuntimeError("Slack refused the post")

    await answer_at_ack(listener, ack, kind="block_actions")
    with caplog.at_level(logging.ERROR, logger="bot.slack.acks"):
        gate.set()
        await settled()
    [record] = [r for r in caplog.records if r.name == "bot.slack.acks"]
    assert record.getMessage() == "listener failed on block_actions" and record.exc_info is not None


async def test_a_failure_right_after_the_ack_keeps_the_answer_already_given(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ack = RecordingAck()

    async def listener(acked: Ack) -> None:
        await acked(text="ok")
        raise RuntimeError("after the answer")

    with caplog.at_level(logging.ERROR, logger="bot.slack.acks"):
        await answer_at_ack(listener, ack, kind="/tune")  # does not raise: Slack has its answer
        await settled()
    assert ack.calls == [{"text": "ok"}]
    assert any("listener failed on /tune" in r.getMessage() for r in caplog.records)


async def test_a_listener_that_never_acks_is_waited_for_only_until_the_deadline() -> None:
    ack, gate = RecordingAck(), asyncio.Event()

    async def listener(acked: Ack) -> None:
        await gate.wait()

    await answer_at_ack(listener, ack, kind="/tune", wait=0.01)
    assert ack.calls == []
    gate.set()
    await settled()


async def test_an_events_work_runs_in_the_background() -> None:
    gate, steps = asyncio.Event(), []

    async def work() -> None:
        await gate.wait()
        steps.append("handled")

    in_background(work(), kind="app_mention")
    assert steps == []
    gate.set()
    await settled()
    assert steps == ["handled"]
