"""Dataset names keep what people type (#20 item 9): a display name in any script, with a slug
for typing it; a reference is a slug, a display name (case-insensitively) or an id; and
`/tune dataset delete` asks first, naming the jobs tuned on the dataset."""

from __future__ import annotations

from bot.datasets.samples import tutorial_csv
from bot.services.datasets import DatasetName, clean_display_name, new_dataset_name, slug_for
from bot.storage.models import Dataset
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    all_text,
    buttons,
    click,
    command,
    ephemerals_for,
    next_ephemeral,
    open_start_form,
    shown_answer,
    store_of,
    upload_file,
    wait_for,
)


def test_a_display_name_is_kept_as_typed_and_its_slug_is_typeable() -> None:
    assert new_dataset_name("🤖 QA set") == DatasetName("🤖 QA set", "qa-set")
    assert new_dataset_name("한국어 데이터") == DatasetName("한국어 데이터", None)  # `dataset-<id>`
    assert new_dataset_name("Café Ünïcode") == DatasetName("Café Ünïcode", "cafe-unicode")
    assert new_dataset_name("Δεδομένα v2") == DatasetName("Δεδομένα v2", None)
    assert new_dataset_name("2024") == DatasetName("dataset-2024", "dataset-2024")
    assert new_dataset_name(None, "uploads/Sales Q3.csv") == DatasetName("Sales Q3", "sales-q3")
    assert new_dataset_name("  ", ".csv") == DatasetName("dataset", "dataset")
    assert slug_for("🤖🤖") is None


def test_a_display_name_loses_control_characters_and_is_limited_in_length() -> None:
    assert clean_display_name("a\x00b\tc\n\u202eevil\u202c  d") == "a b c evil d"
    assert len(clean_display_name("데" * 500)) == 80


async def _stored(stack: OfflineStack, name: str, content: bytes | None = None) -> tuple[Ephemeral, Dataset]:
    answer = await upload_file(stack, OWNER, "data.csv", content or tutorial_csv(), name=name)
    found = store_of(stack).datasets.by_display_name(stack.workspace.team_id, name)
    assert found is not None and found.id is not None, answer.text
    return answer, found


async def _started_on(stack: OfflineStack, reference: str, job_name: str) -> int | None:
    answer = await command(stack, OWNER, f'start {reference} name="{job_name}"')
    assert "Starting tuning" in str(answer), answer
    store = store_of(stack)
    job = await wait_for(
        stack,
        lambda: next(
            (j for j in store.jobs.for_owner(stack.workspace.team_id, OWNER) if j.display_name == job_name),
            None,
        ),
    )
    return job.dataset_id


async def test_a_korean_name_round_trips(stack: OfflineStack) -> None:
    answer, dataset = await _stored(stack, "한국어 데이터")
    slug = f"dataset-{dataset.id}"
    assert dataset.name == slug
    assert f"Stored dataset *한국어 데이터* (type it as `{slug}`): 15 examples" in answer.text
    assert f"/tune start {slug}`" in answer.text
    assert await _started_on(stack, slug, "by slug") == dataset.id
    assert await _started_on(stack, '"한국어 데이터"', "by name") == dataset.id
    listed = await shown_answer(stack, OWNER, "datasets")
    assert f"*한국어 데이터* (`{slug}`)" in listed and "by slug" in listed
    assert stack.sender is not None
    await stack.sender.app_home_opened(OWNER)
    home = await wait_for(stack, lambda: stack.workspace.home_view(OWNER))
    await wait_for(stack, lambda: f"*한국어 데이터* (`{slug}`)" in all_text({"blocks": home.blocks}))
    form = await open_start_form(stack, OWNER)
    options = form.blocks[0]["element"]["options"]
    assert [(o["text"]["text"], o["value"]) for o in options] == [("한국어 데이터", slug)]


async def test_an_emoji_name_round_trips_escaped(stack: OfflineStack) -> None:
    answer, dataset = await _stored(stack, "🤖 QA <set> & co")
    assert dataset.name == "qa-set-co"
    assert "Stored dataset *🤖 QA &lt;set&gt; &amp; co* (type it as `qa-set-co`)" in answer.text
    assert await _started_on(stack, "qa-set-co", "by slug") == dataset.id
    assert await _started_on(stack, '"🤖 qa <SET> & co"', "by name") == dataset.id  # any case
    assert await _started_on(stack, f"#{dataset.id}", "by id") == dataset.id
    detail = await shown_answer(stack, OWNER, "datasets qa-set-co")
    assert "*🤖 QA &lt;set&gt; &amp; co* (`qa-set-co`)" in detail and "<set>" not in detail


async def test_a_taken_display_name_gets_a_suffix_and_says_so(stack: OfflineStack) -> None:
    await _stored(stack, "한국어 데이터")
    again = await upload_file(stack, OWNER, "more.csv", tutorial_csv() + b"7,8\n", name="한국어 데이터")
    assert "Stored dataset *한국어 데이터-2*" in again.text and "*한국어 데이터* exists" in again.text


async def test_deleting_a_dataset_asks_first_naming_the_jobs_tuned_on_it(stack: OfflineStack) -> None:
    assert stack.sender is not None
    _, dataset = await _stored(stack, "🤖 support")
    await _started_on(stack, "support", "support-v1")
    await _started_on(stack, "support", "support-v2")
    store, team = store_of(stack), stack.workspace.team_id

    refused = await command(stack, OTHER, "dataset delete support")
    assert "Only <@U0OWNER>" in all_text(refused)  # type: ignore[arg-type]

    asked = await command(stack, OWNER, "dataset delete support")
    assert isinstance(asked, Ephemeral)
    text = all_text(asked)
    assert "Delete dataset *🤖 support* (15 examples, `support`)?" in text
    assert "used by 2 jobs: support-v1, support-v2; the models stay" in text
    assert [b["text"]["text"] for b in buttons(asked)] == ["Delete", "Cancel"]

    # A click forged by someone else (the same value, from their own client) deletes nothing.
    delete = next(b for b in buttons(asked) if b["text"]["text"] == "Delete")
    seen = len(ephemerals_for(stack, OTHER))
    await stack.sender.block_action(OTHER, delete["action_id"], delete["value"], CHANNEL)
    assert "Only <@U0OWNER>" in (await next_ephemeral(stack, OTHER, seen)).text
    assert store.datasets.by_id(team, dataset.id or 0) is not None

    kept = await click(stack, OWNER, asked, "Cancel")
    assert (
        "Kept dataset *🤖 support*" in kept.text and store.datasets.by_id(team, dataset.id or 0) is not None
    )

    asked = await command(stack, OWNER, "dataset delete support")
    assert isinstance(asked, Ephemeral)
    deleted = await click(stack, OWNER, asked, "Delete")
    assert "Deleted dataset *🤖 support* (15 examples). Models tuned on it are kept." in deleted.text
    assert store.datasets.by_id(team, dataset.id or 0) is None
    assert {j.display_name for j in store.jobs.for_owner(team, OWNER)} >= {"support-v1", "support-v2"}
