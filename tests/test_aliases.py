"""Team aliases (`/tune promote <model> as <alias>`, `/tune aliases`), through the fake Slack
against the emulator's Vertex AI surface, and the migration that adds them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.datasets.samples import tutorial_csv
from bot.domain.audit import AuditAction
from bot.domain.types import ModelState
from bot.listeners.commands.promote import parse_promote
from bot.presentation.aliases import aliases_blocks
from bot.presentation.blocks import MODEL_STATE_LABEL
from bot.presentation.home import HOME_BLOCK_LIMIT, SHOWN_PER_SECTION, home_view
from bot.services.aliases import AliasInfo, AliasMoveLine
from bot.services.errors import ModelRef
from bot.services.home import HomeData
from bot.services.sweep_summaries import HOME_SWEEPS
from bot.storage import schema
from bot.storage.engine import make_engine
from bot.storage.models import TuningJob
from bot.storage.store import Store
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.databases import postgres_schema_url, sqlite_url
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    buttons,
    click,
    command,
    ephemerals_for,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)
from tests.helpers.sweep_walk import hostile_summaries
from tests.test_continue_from import finish, start, words_csv
from tests.test_sweep_home import ready_job


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


async def two_models(stack: OfflineStack) -> tuple[TuningJob, TuningJob]:
    """OWNER's support-v1 (tutorial) and support-v2 (continued from it on the words), ready."""
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    await upload_file(stack, OWNER, "words.csv", words_csv())
    first = await finish(stack, await start(stack, 'start tutorial name="support-v1" epochs=2'))
    second = await finish(stack, await start(stack, 'start words name="support-v2" from=support-v1'))
    return first, second


async def asked(stack: OfflineStack, user: str, text: str) -> Ephemeral:
    answer = await command(stack, user, text)
    assert isinstance(answer, Ephemeral), answer
    return answer


async def promote(stack: OfflineStack, user: str, text: str) -> str:
    """`/tune promote …` and Promote on its confirmation: what `user` is told."""
    prompt = await asked(stack, user, text)
    assert [b["text"]["text"] for b in buttons(prompt)] == ["Promote", "Cancel"], all_text(prompt)
    return all_text(await click(stack, user, prompt, "Promote"))


async def test_promote_asks_naming_what_the_alias_replaces_and_keeps_its_history(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    store = store_of(stack)
    first, second = await two_models(stack)

    new = await asked(stack, OWNER, "promote support-v1 as prod")
    assert "Create the alias `prod` for *support-v1*" in all_text(new)
    assert store.aliases.get(stack.workspace.team_id, "prod") is None  # nothing before the click
    done = all_text(await click(stack, OWNER, new, "Promote"))
    assert "`prod` now points to *support-v1*" in done

    move = await asked(stack, OWNER, "promote support-v2 as prod")
    assert "It points to *support-v1*" in all_text(
        move
    ) and "Move the alias `prod` to *support-v2*" in all_text(move)
    moved = all_text(await click(stack, OWNER, move, "Promote"))
    assert "`prod` now points to *support-v2*" in moved and "(it pointed to *support-v1*" in moved

    cancelled = await asked(stack, OWNER, "promote support-v1 as prod")
    assert "Nothing changed" in all_text(await click(stack, OWNER, cancelled, "Cancel"))
    again = await asked(stack, OWNER, "promote support-v2 as prod")
    assert "already points to *support-v2*" in all_text(again) and not buttons(again)

    listing = all_text(await asked(stack, OWNER, "aliases"))
    assert "`prod` → *support-v2*" in listing
    lines = listing.split("\n")
    moved_line = next(
        i for i, line in enumerate(lines) if "moved it from *support-v1* to *support-v2*" in line
    )
    created_line = next(i for i, line in enumerate(lines) if "created it for *support-v1*" in line)
    assert moved_line < created_line  # newest first
    assert f"<@{OWNER}>" in lines[moved_line] and "UTC" in lines[moved_line]

    entries = store.audit.entries(stack.workspace.team_id)
    promotions = [e for e in entries if e.action == AuditAction.PROMOTE]
    assert [(e.subject, e.details["from"], e.details["to"]) for e in promotions] == [
        ("prod", None, first.model_name),
        ("prod", first.model_name, second.model_name),
    ]
    history = store.aliases.history(stack.workspace.team_id)
    assert [(m.from_model, m.to_model, m.moved_by) for m in history] == [
        (None, first.model_name, OWNER),
        (first.model_name, second.model_name, OWNER),
    ]

    # /tune list and the continued model's lineage show beside the alias
    listed = all_text(await asked(stack, OWNER, "list"))
    assert "from support-v1" in listed and "alias `prod`" in listed


async def test_an_alias_works_wherever_a_model_is_typed(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.sender is not None
    _, second = await two_models(stack)
    await promote(stack, OWNER, "promote support-v2 as prod")

    # /tune try prod: the thread talks to support-v2, and OTHER is told privately which model that is
    seen = len(ephemerals_for(stack, OTHER))
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, "try prod cat")
    note = await next_ephemeral(stack, OTHER, seen)
    assert "`prod` is *support-v2*" in all_text(note)
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert answers() == ["cats"]  # the words model answers; support-v1 alone never learnt plurals

    # /tune eval prod: evaluates support-v2 (the ack says which model the alias meant)
    evaluated = await command(stack, OTHER, "eval prod words")
    assert isinstance(evaluated, str) and "`prod` is *support-v2*" in evaluated
    request = await wait_for(stack, lambda: store_of(stack).eval_requests.get(1))
    assert request.model_name == second.model_name

    # continuing from an alias
    child = await start(stack, 'start words name="support-v3" from=prod checkpoint=1')
    assert (child.parent_model, child.parent_name, child.parent_checkpoint) == (
        second.model_name,
        "support-v2",
        "1",
    )


async def test_only_the_owner_or_an_admin_may_promote_and_names_are_checked(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    first, _ = await two_models(stack)

    refused = await command(stack, OTHER, "promote support-v1 as prod")
    assert isinstance(refused, Ephemeral)
    assert f"Only <@{OWNER}> (who owns *support-v1*) or a tunebot admin may promote it" in all_text(refused)
    assert "`prod` now points to *support-v1*" in await promote(stack, ADMIN, "promote support-v1 as prod")

    async def refusal(text: str) -> str:
        answer = await command(stack, OWNER, text)
        return answer if isinstance(answer, str) else all_text(answer)

    assert "aliases are lowercase. Use `prod2`" in await refusal("promote support-v1 as Prod2")
    assert "a number alone is a model's id" in await refusal("promote support-v1 as 12345")
    assert "a model is called that" in await refusal("promote support-v1 as support-v2")
    number = (first.model_name or "").rsplit("/", 1)[1]
    assert "a number alone is a model's id" in await refusal(f"promote support-v1 as {number}")
    assert "letters, digits, `-`, `_` and `.`" in await refusal("promote support-v1 as a/b")
    assert "too long for an alias" in await refusal("promote support-v1 as " + "a" * 41)
    assert "Usage: `/tune promote <model> as <alias>`" in await refusal("promote support-v1")
    assert "There is no tuned model `nosuch-model-here`" in await refusal("promote nosuch-model-here as x")


async def test_deleting_a_model_an_alias_points_to_warns_and_the_alias_says_it_is_gone(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    assert stack.sender is not None
    _, second = await two_models(stack)
    await promote(stack, OWNER, "promote support-v2 as prod")

    prompt = await asked(stack, OWNER, "delete support-v2")
    shown = all_text(prompt)
    assert "The alias `prod` points to this model" in shown
    [delete] = buttons(prompt)
    assert "`prod`" in delete["confirm"]["text"]["text"]
    deleted = all_text(await click(stack, OWNER, prompt, "Delete"))
    assert "Deleted *support-v2*" in deleted and "`prod` now points to a deleted model" in deleted

    listing = all_text(await asked(stack, OWNER, "aliases"))
    assert "`prod` → *support-v2*" in listing and f"its model was deleted by <@{OWNER}>" in listing

    tried = await command(stack, OTHER, "try prod cat")
    text = tried if isinstance(tried, str) else all_text(tried)
    assert f"The alias `prod` points to *support-v2*, which was deleted by <@{OWNER}>" in text

    # promoting another model mends it
    assert "`prod` now points to *support-v1*" in await promote(stack, OWNER, "promote support-v1 as prod")
    assert second.model_name is not None


async def test_the_home_tab_shows_the_aliases_and_the_lineage(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.sender is not None
    await two_models(stack)
    await promote(stack, OWNER, "promote support-v2 as prod")
    await stack.sender.app_home_opened(OWNER)

    def home() -> str | None:
        view = stack.workspace.home_view(OWNER)
        shown = all_text({"blocks": view.blocks}) if view is not None else ""
        return shown if "The team's aliases" in shown and "`prod`" in shown else None

    shown = await wait_for(stack, home)
    assert "`prod` → *support-v2*" in shown and f"moved by <@{OWNER}>" in shown
    assert "from support-v1 · alias `prod`" in shown
    view = stack.workspace.home_view(OWNER)
    assert view is not None
    confirms = [
        e["confirm"]["text"]["text"]
        for b in view.blocks
        if b.get("type") == "actions"
        for e in b["elements"]
        if "confirm" in e
    ]
    assert any("`prod`" in c for c in confirms)  # the Home tab's Delete warns about the alias too


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with postgres_schema_url() as url:
            yield url


BEFORE = "0011_spend_audit"  # the revision 0014_lineage_aliases was written on


def test_a_database_from_before_aliases_upgrades_in_place(empty_url: str) -> None:
    engine = make_engine(empty_url)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(schema.MIGRATIONS))
            config.attributes["connection"] = connection
            alembic_command.upgrade(config, BEFORE)
            connection.execute(
                text(
                    "INSERT INTO tuning_job (id, team_id, owner_user_id, channel_id, message_state, backend,"
                    " display_name, base_model, model_name, epoch_count, batch_size, learning_rate, state,"
                    " percent, created_at, updated_at, next_poll_at, poll_interval_seconds, notice_state,"
                    " eval_state) VALUES (7, 'T1', 'U1', 'C1', 'posted', 'vertex', 'support-v1',"
                    " 'gemini-2.5-flash', 'projects/p/locations/l/tuningJobs/1', 0, 0, 0.0, 'succeeded',"
                    " 100.0, :at, :at, :at, 5.0, 'none', 'none')"
                ),
                {"at": now},
            )
    finally:
        engine.dispose()

    store = Store.from_url(empty_url)
    try:
        with store.engine.connect() as connection:
            assert schema.current_revision(connection) == schema.head_revision()
            assert compare_metadata(MigrationContext.configure(connection), SQLModel.metadata) == []
        job = store.jobs.get(7)
        assert job is not None and job.display_name == "support-v1"
        assert (job.parent_model, job.parent_checkpoint, job.parent_name) == (None, None, None)
        store.jobs.update(7, parent_model="projects/p/locations/l/tuningJobs/0", parent_checkpoint="2")
        assert store.aliases.for_team("T1") == []
        assert store.aliases.move("T1", "prod", model_name=job.model_name or "", user_id="U1") is not None
        alias = store.aliases.get("T1", "prod")
        assert alias is not None and alias.model_name == job.model_name
        assert [m.to_model for m in store.aliases.history("T1")] == [job.model_name]
    finally:
        store.engine.dispose()


def test_many_aliases_fit_one_message() -> None:
    now = datetime(2026, 12, 3, tzinfo=UTC)
    ref = ModelRef("projects/p/locations/l/tuningJobs/1", "support-v1")
    many = [
        AliasInfo(f"a{i}", ref, OWNER, now, None, False, [AliasMoveLine(now, OWNER, None, ref)])
        for i in range(60)
    ]
    text, shown = aliases_blocks(many)
    assert len(shown) <= 50 and text == "60 aliases"
    assert "and 36 more" in all_text({"blocks": shown})


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("support-v1 as prod", ("support-v1", "prod")),
        ('"support v1" as prod', ("support v1", "prod")),
        ("support v1 AS prod", ("support v1", "prod")),
        ("“support v1” as prod", ("support v1", "prod")),
    ],
)
def test_promote_reads_the_model_and_the_alias(typed: str, expected: tuple[str, str]) -> None:
    assert parse_promote(typed) == expected


def test_a_full_home_still_shows_the_aliases_and_only_whole_models() -> None:
    """Every section full (spend, datasets, running jobs, sweeps, 15 + 15 models): the model lists
    give way, each model shown whole with its buttons, and say how many more `/tune list` has;
    the aliases at the bottom are all there."""
    now = datetime(2026, 12, 3, tzinfo=UTC)
    ref = ModelRef("projects/p/locations/l/tuningJobs/1", "support-v1")
    aliases = [
        AliasInfo(f"alias-{i}", ref, OWNER, now, None, False, [AliasMoveLine(now, OWNER, None, ref)])
        for i in range(SHOWN_PER_SECTION)
    ]
    models = [ready_job("T1", OWNER, f"model {i}", id=i + 1) for i in range(15)]
    running = [ready_job("T1", OWNER, f"running {i}", id=100 + i) for i in range(12)]
    for job in running:
        job.state = "running"
    data = HomeData(
        OWNER, [], running, models, models, aliases=aliases, sweeps=hostile_summaries("data")[:HOME_SWEEPS]
    )
    spend = [{"type": "section", "text": {"type": "mrkdwn", "text": f"spend {i}"}} for i in range(6)]
    view = home_view(data, spend)
    blocks = view["blocks"]
    assert len(blocks) <= HOME_BLOCK_LIMIT
    text = all_text({"blocks": blocks})
    assert all(f"alias-{i}" in text for i in range(SHOWN_PER_SECTION))
    assert "*Sweep #" in text and "spend 5" in text
    # Every model's row is followed by its line and its buttons.
    for n, block in enumerate(blocks):
        if block["type"] == "section" and f"— {MODEL_STATE_LABEL[ModelState.READY]}" in block["text"]["text"]:
            assert blocks[n + 2]["type"] == "actions", block
    mine = text[text.index("*Your models*") : text.index("*The team's other models*")]
    shown_mine = sum(f"*model {i}* —" in mine for i in range(15))
    assert 0 < shown_mine < 15 and f"…and {15 - shown_mine} more: `/tune list` shows them all." in text
    assert "*The team's other models* (15)" in text
