"""The final and eval loss a finished Vertex job shows (job message and notice) are the last
points of its training and eval series: the very points the loss chart in the same thread
ends on, read once the job has ended, not what the last progress poll happened to read."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import bot.slack.reporter as reporter
from bot.domain.types import LossPoint, final_point
from bot.presentation.text import format_loss
from bot.slack.reporter import NOTICE_EVENT_TYPE
from bot.storage.models import TuningJob
from standins.offline import OfflineStack
from tests.helpers.demo import run_script
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    all_text,
    bot_posts,
    eventually,
    running_stack,
    store_of,
    upload_file,
)

NUMBERS = ("text_input,output\n" + "".join(f"{n},{n + 1}\n" for n in range(1, 41))).encode()
Charted = tuple[Sequence[LossPoint], Sequence[LossPoint]]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def capture_charts(stack: OfflineStack) -> dict[str, Charted]:
    """Each chart's (training, eval) points, by the chart's title."""
    assert stack.runtime is not None
    charts: dict[str, Charted] = {}
    drawn = stack.runtime.ctx.reporter.chart

    def chart(train: Sequence[LossPoint], title: str, evaluation: Sequence[LossPoint]) -> bytes:
        charts[title] = (train, evaluation)
        return drawn(train, title, evaluation)

    stack.runtime.ctx.reporter.chart = chart
    return charts


async def start(stack: OfflineStack, text: str) -> TuningJob:
    assert stack.sender is not None
    before = {j.id for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)}
    await stack.sender.slash_command(OWNER, f"start {text}")
    return await eventually(
        lambda: next(
            (
                j
                for j in store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER)
                if j.id not in before and j.message_ts and j.lease_owner is None
            ),
            None,
        )
    )


def shown_losses(stack: OfflineStack, job: TuningJob) -> tuple[str, str | None, str]:
    """(final loss, eval loss) in the job message, and the final loss in the notice."""
    [message] = [m for m in bot_posts(stack) if m.ts == job.message_ts]
    text = all_text(message)
    final = re.search(r"final loss \*?([0-9.e+-]+)", text)
    evaluated = re.search(r"eval loss \*?([0-9.e+-]+)", text)
    assert final is not None, text
    thread = stack.workspace.thread(CHANNEL, job.message_ts or "")
    [notice] = [m for m in thread if (m.metadata or {}).get("event_type") == NOTICE_EVENT_TYPE]
    noticed = re.search(r"final loss \*?([0-9.e+-]+)", all_text(notice))
    assert noticed is not None, all_text(notice)
    noticed_eval = re.search(r"eval loss \*?([0-9.e+-]+)", all_text(notice))
    if evaluated is not None:
        assert noticed_eval is not None and noticed_eval.group(1) == evaluated.group(1), all_text(notice)
    return final.group(1), evaluated.group(1) if evaluated else None, noticed.group(1)


async def test_the_losses_shown_are_the_last_points_of_the_charted_series(stack: OfflineStack) -> None:
    assert stack.emulator is not None
    charts = capture_charts(stack)
    await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
    # 32 examples to train on, 4 steps an epoch, 3 epochs: 12 steps; an eval point every 2 steps
    caught_up = await start(stack, 'numbers name="caught up" epochs=3 validation=20%')
    hurried = await start(stack, 'numbers name="hurried" epochs=3 validation=20%')
    store = store_of(stack)

    stack.emulator.advance(4)  # a few steps in: the series are found
    await stack.poll(all_due=True)
    # "hurried" moves on between every poll, so its training loss is always behind and the
    # eval loss is never read while it runs; "caught up" then waits until both are read.
    for _ in range(3):
        stack.emulator.advance(1)
        await stack.poll(all_due=True)
    for _ in range(4):
        await stack.poll(all_due=True)
    row = store.jobs.get(caught_up.id or 0)
    assert row is not None and row.mean_loss is not None and row.eval_loss is not None

    stack.emulator.emulator.finish_all()  # the emulator jumps to the end in one big step
    for _ in range(3):
        await stack.poll(all_due=True)

    for job, title in ((caught_up, "caught up"), (hurried, "hurried")):
        fresh = store.jobs.get(job.id or 0)
        assert fresh is not None and fresh.state == "succeeded"
        [(train, evaluation)] = [points for name, points in charts.items() if title in name]
        assert train[-1].step == 12 and evaluation[-1].step == 12
        final, evaluated, noticed = shown_losses(stack, fresh)
        assert final == format_loss(train[-1].mean_loss) == noticed, title
        assert evaluated == format_loss(evaluation[-1].mean_loss), title


DEMO_JOBS = {"plain": "epochs=3", "held out": "epochs=2 validation=20%", "long": "epochs=6 validation=20%"}


def test_every_finished_vertex_job_of_the_demo_shows_the_charts_last_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    charted: dict[str, tuple[list[LossPoint], list[LossPoint]]] = {}
    draw = reporter.loss_chart_png

    def chart(points: Sequence[LossPoint], title: str, eval_points: Sequence[LossPoint] = ()) -> bytes:
        charted[title.removesuffix(" — loss")] = (list(points), list(eval_points))
        return draw(points, title, eval_points=eval_points)

    monkeypatch.setattr(reporter, "loss_chart_png", chart)
    script = ["/tune upload next-number.csv"]
    script += [f'/tune start next-number name="{name}" {options}' for name, options in DEMO_JOBS.items()]
    script.append("wait done")
    status, transcript = run_script(script, tmp_path, backend="vertex")
    assert status == 0, transcript

    assert sorted(charted) == sorted(DEMO_JOBS), transcript
    for name, (train, evaluation) in charted.items():
        final = format_loss(final_point(train).mean_loss if final_point(train) else None)
        last_eval = final_point(evaluation)
        evaluated = f" · eval loss {format_loss(last_eval.mean_loss)}" if last_eval else ""
        assert bool(evaluation) == ("validation" in DEMO_JOBS[name]), name
        # the job message's last version, and the notice in its thread
        shown = transcript.rsplit(f":white_check_mark: {name} · ready\n", 1)[1].split("\n")[1]
        assert shown.endswith(f"final loss {final}{evaluated}"), (name, shown, transcript)
        notice = transcript.split(f"your tuned model {name} is ready to use", 1)[1].split("\n")[1]
        assert f"final loss {final}{evaluated} · took" in notice, (name, notice, transcript)


async def test_on_the_gemini_api_too_the_final_loss_is_the_charts_last_point(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="gemini") as stack:
        assert stack.emulator is not None
        charts = capture_charts(stack)
        await upload_file(stack, OWNER, "numbers.csv", NUMBERS)
        job = await start(stack, 'numbers name="gemini job" epochs=3')
        stack.emulator.advance(4)
        await stack.poll(all_due=True)
        stack.emulator.emulator.finish_all()
        for _ in range(3):
            await stack.poll(all_due=True)
        fresh = store_of(stack).jobs.get(job.id or 0)
        assert fresh is not None and fresh.state == "succeeded"
        [(train, evaluation)] = charts.values()
        final, evaluated, noticed = shown_losses(stack, fresh)
        assert final == format_loss(train[-1].mean_loss) == noticed and evaluated is None
        assert not evaluation
