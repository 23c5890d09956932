"""How a typed dataset reference finds a dataset: a bare number (or `#N`) is always an id, a
name is a name, and a name kept from an older version that is only digits is `name:N`.
New names are never only digits. One service function decides, everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.datasets.samples import tutorial_csv
from bot.domain.types import BaseModelChoice, TrainingExample
from bot.presentation import blocks
from bot.presentation.datasets import unknown_dataset_message
from bot.services.datasets import dataset_insight, dataset_reference, find_dataset, lookup_dataset
from bot.services.errors import UnknownDataset
from bot.storage.models import Dataset
from bot.storage.store import Store
from standins.offline import OfflineStack
from tests.helpers.evaluation import finished_job
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    command,
    ephemerals_for,
    next_ephemeral,
    open_start_form,
    store_of,
    upload_file,
    wait_for,
)

# Another user's dataset: many more (and longer) examples than the tutorial, so an estimate
# or a start on it is told apart from one on the tutorial.
OTHERS_ROWS = "input,output\n" + "".join(f"what follows {n} and then some,{n + 1}\n" for n in range(60))


async def _legacy_dataset_named(stack: OfflineStack, name: str) -> Dataset:
    """OTHER's dataset, named `name` as an older tunebot allowed (names were not checked)."""
    await upload_file(stack, OTHER, "others.csv", OTHERS_ROWS.encode())
    store = store_of(stack)
    team = stack.workspace.team_id
    uploaded = store.datasets.by_name(team, "others")
    assert uploaded is not None and uploaded.id is not None
    return store.datasets.rename(uploaded.id, name)


def _tutorial(stack: OfflineStack) -> Dataset:
    found = store_of(stack).datasets.by_name(stack.workspace.team_id, "tutorial")
    assert found is not None and found.id is not None
    return found


async def test_tune_start_with_a_number_starts_on_that_id_not_on_a_dataset_named_so(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    tutorial = _tutorial(stack)
    squatter = await _legacy_dataset_named(stack, str(tutorial.id))
    answer = await command(stack, OWNER, f"start {tutorial.id}")
    assert isinstance(answer, str) and "Starting tuning" in answer, answer
    store = store_of(stack)
    job = await wait_for(
        stack, lambda: next(iter(store.jobs.for_owner(stack.workspace.team_id, OWNER)), None)
    )
    assert job.dataset_id == tutorial.id != squatter.id
    # The older dataset named with digits is still reachable, as `name:<digits>`.
    await command(stack, OTHER, f"start name:{tutorial.id}")
    theirs = await wait_for(
        stack, lambda: next(iter(store.jobs.for_owner(stack.workspace.team_id, OTHER)), None)
    )
    assert theirs.dataset_id == squatter.id


async def test_tune_eval_with_a_number_evaluates_on_that_id(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    job = await finished_job(stack, "tutorial")
    await stack.poll(all_due=True)
    tutorial = _tutorial(stack)
    await _legacy_dataset_named(stack, str(tutorial.id))
    assert job.model_name
    model_id = job.model_name.removeprefix("tunedModels/")
    assert stack.sender is not None
    await stack.sender.slash_command(OWNER, f"eval {model_id} {tutorial.id}")
    parent = await wait_for(
        stack, lambda: next((m for m in bot_posts(stack) if "is evaluating" in m.texts[0]), None)
    )
    assert "examples of dataset *tutorial*" in parent.texts[0], parent.texts[0]
    csv_file = await wait_for(
        stack, lambda: next((f for f in stack.workspace.uploads(CHANNEL) if f.name.endswith(".csv")), None)
    )
    assert csv_file.content.count(b"\n") == 16  # the tutorial's 15 examples and a header


async def test_the_start_forms_estimate_is_for_the_dataset_started_on(fast_stack: OfflineStack) -> None:
    stack = fast_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    tutorial = _tutorial(stack)
    squatter = await _legacy_dataset_named(stack, str(tutorial.id))
    store = store_of(stack)
    mine = dataset_insight(store, tutorial).total_tokens * 2
    theirs = dataset_insight(store, squatter).total_tokens * 2
    assert mine != theirs
    view = await open_start_form(stack, OWNER)
    fields = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "tutorial"}}},
        "epochs": {"epochs": "2"},
        "batch_size": {"batch_size": "2"},
        "learning_rate": {"learning_rate": "0.001"},
    }
    seen = len(ephemerals_for(stack, OWNER))
    submitted = await stack.sender.view_submission(OWNER, view, fields) if stack.sender else None
    assert submitted is not None and submitted.status_code == 200
    estimate = all_text(await next_ephemeral(stack, OWNER, seen))
    assert f"≈ {mine:,} training tokens" in estimate, estimate


async def test_names_of_digits_alone_are_never_given_and_old_ones_show_how_to_reach_them(
    fast_stack: OfflineStack,
) -> None:
    stack = fast_stack
    stored = await upload_file(stack, OWNER, "2024.csv", tutorial_csv())
    assert "dataset-2024" in all_text(stored)
    named = await upload_file(stack, OWNER, "other.csv", OTHERS_ROWS.encode(), name="17")
    assert "*dataset-17*" in all_text(named) or "dataset-17" in all_text(named)
    assert "only digits" in all_text(named)
    renamed = await command(stack, OWNER, "dataset rename dataset-2024 5")
    text = renamed if isinstance(renamed, str) else all_text(renamed)
    assert "*dataset-5*" in text and "only digits" in text
    team = stack.workspace.team_id
    assert sorted(store_of(stack).datasets.names(team)) == ["dataset-17", "dataset-5"]


def _store(tmp_path: Path) -> Store:
    return Store.from_url(f"sqlite:///{tmp_path / 'refs.db'}")


def _add(store: Store, name: str, owner: str, sha: str) -> Dataset:
    return store.datasets.add(
        team_id="T1",
        owner_user_id=owner,
        channel_id="C1",
        name=name,
        file_name=f"{name}.csv",
        format="csv",
        sha256=sha * 64,
        examples=[TrainingExample("1", "2")],
    )


def test_one_function_reads_a_reference_the_same_way_everywhere(tmp_path: Path) -> None:
    store = _store(tmp_path)
    try:
        mine = _add(store, "numbers", OWNER, "a")
        assert mine.id is not None
        # A name kept from an older version that reads like the id of another dataset.
        squatter = _add(store, str(mine.id), OTHER, "b")
        for typed in (str(mine.id), f"#{mine.id}", f" `{mine.id}` ", "numbers", "`numbers`"):
            assert lookup_dataset(store, "T1", typed) == mine, typed
        assert lookup_dataset(store, "T1", f"name:{mine.id}") == squatter
        assert lookup_dataset(store, "T1", "name:numbers") == mine
        assert lookup_dataset(store, "T1", "999") is None and lookup_dataset(store, "T2", "numbers") is None
        with pytest.raises(UnknownDataset) as caught:
            find_dataset(store, "T1", "999")
        message = unknown_dataset_message(caught.value.wanted, caught.value.names)
        assert f"`name:{mine.id}`" in message  # how to type the older name
        assert dataset_reference("numbers") == "numbers" and dataset_reference("7") == "name:7"
    finally:
        store.engine.dispose()


def test_the_start_forms_options_reach_an_older_name_of_digits() -> None:
    view = blocks.start_modal("C1", OWNER, ["numbers", "7"], [BaseModelChoice("gemini-2.5-flash", "Flash")])
    [select] = [b for b in view["blocks"] if b.get("block_id") == "dataset"]
    values = {o["text"]["text"]: o["value"] for o in select["element"]["options"]}
    assert values == {"numbers": "numbers", "7": "name:7"}
