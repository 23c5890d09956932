"""Sweeps in App Home and `/tune list` (#23): the team's recent sweeps with their variants
counted by state and their leader as the leaderboard ranks it, and the note beside each model
that came from a sweep. A real sweep, through the fake Slack against the emulator's Vertex AI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.datasets.samples import tutorial_csv
from bot.presentation.home import HOME_BLOCK_LIMIT, SHOWN_PER_SECTION, home_view
from bot.services.home import HomeData
from bot.services.sweep_summaries import HOME_SWEEPS, recent_sweeps, sweep_notes
from bot.storage.models import Sweep, TuningJob
from bot.storage.store import Store
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    all_text,
    command,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)
from tests.helpers.sweep_walk import hostile_summaries
from tests.test_sweeps import settle, sweep, sweep_messages

OTHER_TEAM = "T0OTHERTEAM"


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def home_after(stack: OfflineStack, user: str, wanted: str) -> str:
    """Open `user`'s Home tab (again) and wait until it shows `wanted`: all its text."""
    assert stack.sender is not None and stack.runtime is not None and stack.runtime.ctx.home is not None
    stack.runtime.ctx.home.min_interval = 0.0
    await stack.sender.app_home_opened(user)

    def shown() -> str | None:
        view = stack.workspace.home_view(user)
        text = all_text({"blocks": view.blocks}) if view is not None else ""
        return text if wanted in text else None

    return await wait_for(stack, shown)


def ready_job(team_id: str, owner: str, name: str, **extra: Any) -> TuningJob:
    """A finished job whose model is ready (its message and notice already posted)."""
    return TuningJob(
        team_id=team_id,
        owner_user_id=owner,
        channel_id=CHANNEL,
        display_name=name,
        base_model="gemini-2.5-flash",
        model_name=f"projects/p/locations/l/models/{name.replace(' ', '-')}",
        epoch_count=1,
        batch_size=1,
        learning_rate=0.001,
        state="succeeded",
        percent=100.0,
        notice_state="done",
        message_state="posted",
        eval_state="skipped",
        **extra,
    )


def other_teams_sweep(store: Store) -> Sweep:
    """A finished sweep of another team in the same database, with one succeeded variant."""
    other = store.sweeps.create(
        Sweep(
            team_id=OTHER_TEAM,
            owner_user_id="U0ELSEWHERE",
            channel_id="C0ELSEWHERE",
            dataset_name="their-secret-data",
            grid='{"epochs": ["1", "3"]}',
            message_ts="1.000001",
            message_state="posted",
            notice_state="posted",
        )
    )
    store.jobs.create(ready_job(OTHER_TEAM, "U0ELSEWHERE", "theirs e1", sweep_id=other.id))
    return other


@contextmanager
def counted_queries(store: Store) -> Iterator[list[str]]:
    """The SQL statements run on `store`'s engine inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


async def test_home_shows_the_sweep_with_its_counts_and_leader_and_list_notes_each_variant(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    stack.emulator.emulator.update_faults({"fail_models": ["tutorial e4 lr×1"]})
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    _, jobs = await sweep(stack)
    other_teams_sweep(store_of(stack))

    # While it runs: every variant counted as running, no leader yet.
    running = await home_after(stack, OWNER, "Sweep #")
    assert "*Sweeps*" in running and "4 variants: 4 running" in running
    assert "Ranked by win rate against the base model" in running and "No leader yet." in running

    await settle(stack)

    [board] = sweep_messages(stack)
    winner = next(line for line in board.text.splitlines() if ":trophy:" in line)
    label = winner.split("*")[1]
    rate = re.search(r"win rate (\d+%)", winner)
    assert rate is not None
    shown = await home_after(stack, OWNER, "Best:")
    assert f"*Sweep #1* on `tutorial` by <@{OWNER}> — 4 variants: 3 succeeded · 1 failed" in shown
    assert f"Best: :trophy: *{label}* (tutorial {label}), win rate {rate.group(1)}" in shown
    assert f"leaderboard in <#{CHANNEL}>" in shown
    # Another team's sweep in the same database is not shown.
    assert shown.count("Sweep #") == 1 and "their-secret-data" not in shown

    # One query for the sweeps, one for all their variants, one for the variants' reports.
    store = store_of(stack)
    with counted_queries(store) as queries:
        [summary] = recent_sweeps(store, stack.workspace.team_id)
    assert len(queries) == 3 and summary.variants == 4
    with counted_queries(store) as queries:
        assert len(sweep_notes(store, store.jobs.team_models(stack.workspace.team_id))) == 4
    assert len(queries) == 3  # the team's models, then their sweeps and the sweeps' variants

    # `/tune list` notes each variant's place in the sweep and its settings, on its own model.
    answer = await command(stack, OWNER, "list")
    assert isinstance(answer, Ephemeral)
    listed = all_text(answer).splitlines()
    settings = [("2", "0.5"), ("2", "1"), ("4", "0.5"), ("4", "1")]
    for number, (job, (epochs, rate_multiplier)) in enumerate(zip(jobs, settings, strict=True), start=1):
        done = store.jobs.get(job.id or 0)
        assert done is not None
        if done.state != "succeeded":
            assert done.display_name == "tutorial e4 lr×1"
            continue
        assert done.model_name is not None
        [line] = [line for line in listed if f"`{done.model_name}`" in line]
        note = (
            f"variant {number} of 4 in sweep #1 (epochs={epochs}, learning_rate_multiplier={rate_multiplier})"
        )
        assert note in line, line
        # The Home tab's model rows carry the same note.
        assert f"`{done.model_name}` · base `{done.base_model}` · {note}" in shown


async def test_a_team_without_sweeps_sees_no_sweeps_section(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    other_teams_sweep(store_of(stack))
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    shown = await home_after(stack, OWNER, "*tutorial* — 15 examples")
    assert "Sweeps" not in shown and "Sweep #" not in shown and "their-secret-data" not in shown
    answer = await command(stack, OWNER, "list")
    assert "in sweep #" not in (all_text(answer) if isinstance(answer, Ephemeral) else answer)


def test_a_full_home_keeps_its_sweeps_within_slacks_block_limit() -> None:
    job = ready_job("T1", OWNER, "a model", id=1)
    summaries = (hostile_summaries("data") * 2)[:HOME_SWEEPS]
    many = [job] * (SHOWN_PER_SECTION + 5)
    view = home_view(HomeData(OWNER, [], many, many, many, sweeps=summaries))
    assert len(view["blocks"]) <= HOME_BLOCK_LIMIT
    text = all_text({"blocks": view["blocks"]})
    assert text.count("*Sweep #") == HOME_SWEEPS and "*Sweeps*" in text
