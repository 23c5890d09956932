"""Everyday Slack (#15): models by name, paged lists, dataset delete/rename, deleting a
running job, every bad option at once, "did you mean"."""

from __future__ import annotations

from bot.datasets.samples import tutorial_csv
from bot.domain.types import TrainingExample
from bot.storage.models import TuningJob
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.emulator import outside_models
from tests.helpers.slack import (
    ADMIN,
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    bot_posts,
    buttons,
    command,
    delete_dataset,
    eventually,
    shown_answer,
    store_of,
    upload_file,
    wait_for,
)


async def tuned(stack: OfflineStack, user: str, name: str, *, finish: bool = True) -> TuningJob:
    """Upload the tutorial (once per team) and tune a model called `name` through tunebot."""
    assert stack.sender is not None and stack.emulator is not None
    store = store_of(stack)
    if store.datasets.by_name(stack.workspace.team_id, "tutorial") is None:
        await upload_file(stack, user, "tutorial.csv", tutorial_csv())
    answer = await command(stack, user, f'start tutorial name="{name}"')
    assert "Starting tuning" in str(answer)
    job = await eventually(
        lambda: next(
            (
                j
                for j in store.jobs.active()
                if j.display_name == name and j.message_ts and j.lease_owner is None
            ),
            None,
        )
    )
    if finish:
        stack.emulator.advance(60)
        await stack.poll(all_due=True)
    return job


def answer_text(answer: Ephemeral | str) -> str:
    return all_text(answer) if isinstance(answer, Ephemeral) else answer


async def test_models_are_tried_and_deleted_by_display_name(stack: OfflineStack) -> None:
    assert stack.sender is not None
    job = await tuned(stack, OWNER, "next number v2")
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, 'try "next number v2" 12')
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    assert prompt.text.startswith(f"<@{OTHER}> asked *next number v2*")
    asked = await command(stack, OWNER, "delete next-number-v2")
    assert isinstance(asked, Ephemeral)
    assert "Delete tuned model *next number v2*?" in asked.text or "next number v2" in all_text(asked)
    assert [b["value"] for b in buttons(asked)] == [job.model_name]
    # The short id and the full name keep working.
    assert isinstance(await command(stack, OWNER, f"delete {job.model_name}"), Ephemeral)


async def test_a_name_two_models_share_lists_the_candidates(stack: OfflineStack) -> None:
    first = await tuned(stack, OWNER, "numbers")
    second = await tuned(stack, OTHER, "numbers")
    answer = answer_text(await command(stack, OWNER, "try numbers 1"))
    assert "Several models are called *numbers*" in answer
    for job in (first, second):
        assert job.model_name and job.model_name.removeprefix("tunedModels/") in answer
    assert f"<@{OWNER}>" in answer and f"<@{OTHER}>" in answer


async def test_list_mine_or_all_with_page_counts_and_totals(stack: OfflineStack) -> None:
    assert stack.sender is not None
    await tuned(stack, OWNER, "mine")
    await outside_models(stack, 11)
    everything = await command(stack, OWNER, "list")
    assert isinstance(everything, Ephemeral)
    assert "12 in all, 1 yours · page 1 of 2" in all_text(everything)
    [next_button] = buttons(everything)
    await stack.sender.block_action(
        OWNER,
        next_button["action_id"],
        next_button["value"],
        CHANNEL,
        message_ts=everything.message_ts,
        is_ephemeral=True,
    )
    await wait_for(stack, lambda: "page 2 of 2" in all_text(everything))
    assert [b["text"]["text"] for b in buttons(everything)] == ["Previous"]
    mine = await command(stack, OWNER, "list mine")
    text = all_text(mine)  # type: ignore[arg-type]
    assert "Your tuned models" in text and "page 1 of 1" in text and "outside tunebot" not in text
    assert "`mine` or `all`" in answer_text(await command(stack, OWNER, "list everything"))


async def test_datasets_are_paged_and_can_be_renamed_and_deleted(stack: OfflineStack) -> None:
    assert stack.sender is not None
    store = store_of(stack)
    team = stack.workspace.team_id
    for n in range(12):
        store.datasets.add(
            team_id=team,
            owner_user_id=OWNER,
            channel_id=CHANNEL,
            name=f"set-{n:02d}",
            file_name=f"set-{n:02d}.csv",
            format="csv",
            sha256=f"{n:064d}",
            examples=[TrainingExample("a", "b")] * 10,
        )
    first = await shown_answer(stack, OWNER, "datasets")
    assert "12 (120 examples) · page 1 of 2" in first and "set-11" in first and "set-01" not in first
    assert "Only <@U0OWNER>" in answer_text(await command(stack, OTHER, "dataset delete set-01"))
    renamed = answer_text(await command(stack, OWNER, 'dataset rename set-01 "Q&A v2"'))
    assert "Renamed dataset *set-01* to *Q&amp;A v2* (type it as `q-a-v2`)" in renamed
    assert "stored as" not in renamed
    taken = answer_text(await command(stack, OWNER, "dataset rename set-02 set-03"))
    assert "already a dataset `set-03`" in taken
    deleted = await delete_dataset(stack, ADMIN, "set-03")
    assert "Deleted dataset *set-03*" in deleted
    assert (
        store.datasets.by_name(team, "set-03") is None and store.datasets.by_name(team, "q-a-v2") is not None
    )
    assert "Did you mean `delete`" in answer_text(await command(stack, OWNER, "dataset delet set-04"))


async def test_a_taken_dataset_name_is_stated_in_the_reply(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "qa.csv", tutorial_csv())
    again = await upload_file(stack, OWNER, "qa.csv", tutorial_csv() + b"7,8\n")
    assert "Stored dataset *qa-2* (`qa` is taken)" in again.text and "stored as" not in again.text


async def test_deleting_a_running_job_warns_then_marks_its_message_cancelled(stack: OfflineStack) -> None:
    assert stack.sender is not None
    job = await tuned(stack, OWNER, "half done", finish=False)
    asked = await command(stack, OWNER, 'delete "half done"')
    assert isinstance(asked, Ephemeral)
    assert "still tuning (0%): deleting it cancels the tuning" in all_text(asked)
    [delete] = buttons(asked)
    assert "will be cancelled" in delete["confirm"]["text"]["text"]
    await stack.sender.block_action(
        OWNER, delete["action_id"], delete["value"], CHANNEL, message_ts=asked.message_ts, is_ephemeral=True
    )
    await wait_for(stack, lambda: "Cancelled the tuning of *half done*" in asked.text)
    message = stack.workspace.message(CHANNEL, job.message_ts or "")
    assert message is not None
    text = await wait_for(stack, lambda: "cancelled by" in all_text(message) and all_text(message))
    assert f"cancelled by <@{OWNER}>" in text and "deleted the model while it was tuning" in text
    shown = all_text({"blocks": message.blocks})
    assert shown.lower().count("cancelled") == 1, shown  # said once, in its title line


async def test_every_bad_start_option_is_reported_at_once(stack: OfflineStack) -> None:
    answer = answer_text(await command(stack, OWNER, "start tutorial epochs=0 batch_size=x epoch=3 foo=1"))
    assert "`epochs` must be between 1 and 100" in answer
    assert "`batch_size` must be a whole number" in answer
    assert "I don't know the option `epoch=3`. Did you mean `epochs`?" in answer
    assert "I don't know the option `foo=1`." in answer


async def test_a_mistyped_subcommand_gets_did_you_mean(stack: OfflineStack) -> None:
    assert "Did you mean `/tune start`?" in answer_text(await command(stack, OWNER, "strat tutorial"))
    assert "Did you mean" not in answer_text(await command(stack, OWNER, "xyzzy"))
