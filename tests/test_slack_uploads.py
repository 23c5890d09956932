"""`/tune upload` and files shared with a mention, through the real HTTP endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.datasets.samples import TUTORIAL_EXAMPLES, tutorial_csv, tutorial_jsonl
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OTHER,
    OWNER,
    ephemerals_for,
    next_ephemeral,
    store_of,
    upload_file,
    wait_for,
)

BAD = Path(__file__).parent / "data" / "bad"
EXPECTED_BAD = json.loads((BAD / "EXPECTED.json").read_text(encoding="utf-8"))


async def test_upload_through_the_modal_stores_the_dataset_with_its_owner(stack: OfflineStack) -> None:
    answer = await upload_file(stack, OWNER, "next number.csv", tutorial_csv())
    assert "Stored dataset *next number* (type it as `next-number`): 15 examples" in answer.text
    assert "/tune start next-number" in answer.text
    store = store_of(stack)
    dataset = store.datasets.by_name(stack.workspace.team_id, "next-number")
    assert dataset is not None and dataset.owner_user_id == OWNER and dataset.channel_id == CHANNEL
    assert dataset.id is not None
    pairs = store.datasets.examples(dataset.id)
    assert [(p.text_input, p.output) for p in pairs] == [(e.text_input, e.output) for e in TUTORIAL_EXAMPLES]
    # The download used the bot token and only Slack's own host.
    downloads = stack.workspace.downloads
    assert len(downloads) == 1 and downloads[0].authorized


async def test_dataset_name_and_columns_from_the_modal(stack: OfflineStack) -> None:
    rows = "question\tanswer\n" + "".join(f"{n}\t{n + 1}\n" for n in range(12))
    answer = await upload_file(
        stack,
        OWNER,
        "pairs.tsv",
        rows.encode(),
        name="counting",
        input_column="question",
        output_column="answer",
    )
    assert "Stored dataset *counting*: 12 examples" in answer.text
    assert "input `question`, output `answer`" in answer.text


async def test_the_same_file_again_is_recognised(stack: OfflineStack) -> None:
    await upload_file(stack, OWNER, "numbers.jsonl", tutorial_jsonl())
    again = await upload_file(stack, OTHER, "copy.jsonl", tutorial_jsonl())
    assert "already stored as dataset *numbers*" in again.text
    assert f"<@{OWNER}>" in again.text
    assert store_of(stack).datasets.count() == 1


@pytest.mark.parametrize(
    "name",
    [
        "latin1.csv",
        "utf16_bom.csv",
        "image.csv",
        "empty.csv",
        "header_only.csv",
        "missing_column.csv",
        "unbalanced_quote.csv",
        "cut_off.json",
        "broken_line.jsonl",
        "body_without_examples.json",
        "sharegpt.jsonl",
        "generate_content_body.json",
        "numbers.json",
        "nulls.jsonl",
        "input_40001.jsonl",
        "output_5001.csv",
        "too_few.csv",
    ],
)
async def test_a_bad_file_is_refused_with_the_reason_and_nothing_is_stored(
    stack: OfflineStack, name: str
) -> None:
    answer = await upload_file(stack, OWNER, name, (BAD / name).read_bytes())
    expected = EXPECTED_BAD[name]
    assert "was not stored" in answer.text
    escaped = expected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped.lower() in answer.text.lower()
    assert store_of(stack).datasets.count() == 0


async def test_an_oversized_file_is_refused_before_downloading(stack: OfflineStack) -> None:
    assert stack.runtime is not None
    limit = stack.runtime.ctx.limits.max_file_bytes
    big = b"text_input,output\n" + b"1,2\n" * (limit // 4 + 10)
    answer = await upload_file(stack, OWNER, "huge.csv", big)
    assert "the limit is 64.0 MB" in answer.text
    assert stack.workspace.downloads == []
    assert store_of(stack).datasets.count() == 0


async def test_a_file_link_outside_slack_is_never_fetched(stack: OfflineStack) -> None:
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    file = stack.workspace.add_file("evil.csv", tutorial_csv(), user=OWNER)
    file["url_private_download"] = "https://attacker.example.com/steal.csv"
    await stack.sender.message(OWNER, CHANNEL, f"<@{stack.workspace.bot_user_id}> here", files=[file])
    # The event carries the workspace's own file object; send the forged one directly too.
    event = {
        "type": "app_mention",
        "user": OWNER,
        "text": f"<@{stack.workspace.bot_user_id}> take this",
        "ts": stack.workspace.new_ts(),
        "channel": CHANNEL,
        "files": [file],
    }
    await stack.sender.event(event)
    answers = [await next_ephemeral(stack, OWNER, seen), await next_ephemeral(stack, OWNER, seen + 1)]
    refusal = [a for a in answers if "attacker.example.com" in a.text]
    assert refusal and "not one of Slack's file hosts" in refusal[0].text
    assert all(d.authorized for d in stack.workspace.downloads)
    assert len(stack.workspace.downloads) <= 1


async def test_mentioning_the_bot_with_a_file_uploads_it(stack: OfflineStack) -> None:
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    file = stack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)
    await stack.sender.message(OWNER, CHANNEL, f"<@{stack.workspace.bot_user_id}> tune on this", files=[file])
    answer = await next_ephemeral(stack, OWNER, seen)
    assert "Stored dataset *tutorial*: 15 examples" in answer.text


async def test_a_repeated_event_delivery_is_handled_once(stack: OfflineStack) -> None:
    assert stack.sender is not None
    file = stack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)
    event = {
        "type": "app_mention",
        "user": OWNER,
        "text": f"<@{stack.workspace.bot_user_id}>",
        "ts": stack.workspace.new_ts(),
        "channel": CHANNEL,
        "files": [file],
    }
    await stack.sender.event(event, event_id="Ev0DUPLICATE")
    await next_ephemeral(stack, OWNER, 0)
    await stack.sender.event(event, event_id="Ev0DUPLICATE", retry_num=1)
    with pytest.raises(TimeoutError):
        await wait_for(stack, lambda: len(ephemerals_for(stack, OWNER)) > 1, timeout=1.0)
    assert len(stack.workspace.downloads) == 1


async def test_a_missing_files_read_scope_is_explained(stack: OfflineStack) -> None:
    stack.workspace.missing_scopes.add("files:read")  # Slack then serves its sign-in page
    answer = await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert "files:read" in answer.text and "Nothing was stored" in answer.text
    assert [d.outcome for d in stack.workspace.downloads] == ["login_page"]
    assert store_of(stack).datasets.count() == 0


async def test_a_redirect_off_slack_is_not_followed(stack: OfflineStack) -> None:
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    file = stack.workspace.add_file("tutorial.csv", tutorial_csv(), user=OWNER)
    stack.workspace.redirect_download(str(file["id"]), "https://files.example.net/tutorial.csv")
    await stack.sender.message(OWNER, CHANNEL, f"<@{stack.workspace.bot_user_id}> data", files=[file])
    answer = await next_ephemeral(stack, OWNER, seen)
    assert "files.example.net" in answer.text and "not one of Slack's file hosts" in answer.text
    assert [d.outcome for d in stack.workspace.downloads] == ["redirect"]
    assert store_of(stack).datasets.count() == 0
