"""Skipping bad rows (issue #20, item 3): an upload option that stores the good examples of a
file whose problems are all a row's own, lists the rows left out in the reply and in a CSV
in the uploader's DM; the default stays strict, and problems with the whole file still refuse."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.datasets import parse_dataset
from bot.datasets.limits import file_level_problems, skipped_rows
from bot.evaluation.report import original_cell
from bot.presentation.limits import skipped_csv
from standins.fakeslack import Ephemeral
from standins.offline import OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    ephemerals_for,
    next_ephemeral,
    shown_answer,
    store_of,
    upload_file,
)

OWNER_DM = "D" + OWNER[1:]
# The upload modal's checkbox, ticked.
SKIP = {"type": "checkboxes", "selected_options": [{"value": "skip_bad_rows"}]}
FORMULA = "=SUM(1+1)*cmd|' /C calc'!A0"


def good_rows(count: int, start: int = 0) -> str:
    return "".join(f"question {n},answer {n}\n" for n in range(start, start + count))


def mixed_csv(good: int = 12, output: str = "output") -> bytes:
    """`good` good rows with two bad ones among them: row 5's output is empty, row 9 has a
    column too few."""
    rows = good_rows(3) + "question x,\n" + good_rows(3, 3) + "lonely\n" + good_rows(good - 6, 6)
    return (f'input,"{output}"\n' + rows).encode()


async def upload(stack: OfflineStack, name: str, content: bytes, *, skip: bool, **fields: Any) -> Ephemeral:
    ticked = {"skip_bad_rows": SKIP} if skip else {}
    return await upload_file(stack, OWNER, name, content, **ticked, **fields)


def skipped_csv_rows(stack: OfflineStack) -> list[list[str]]:
    [shared] = [f for f in stack.workspace.uploads(OWNER_DM) if f.name.endswith("-skipped-rows.csv")]
    return list(csv.reader(io.StringIO(shared.content.decode("utf-8"))))


async def test_skipping_stores_the_good_examples_lists_the_bad_rows_and_sends_a_csv(
    stack: OfflineStack,
) -> None:
    answer = await upload(stack, "mixed.csv", mixed_csv(output=FORMULA), skip=True, output_column=FORMULA)
    text = answer.text
    assert "Stored dataset *mixed*: 12 of 14 examples from `mixed.csv`" in text, text
    assert "2 rows skipped, listed below and in a CSV in your DM with me" in text, text
    assert "row 5" in text and "is empty" in text and "row 9" in text, text
    dataset = store_of(stack).datasets.by_name(stack.workspace.team_id, "mixed")
    assert dataset is not None
    assert dataset.example_count == 12 and dataset.skipped_count == 2
    assert len(store_of(stack).datasets.examples(dataset.id or 0)) == 12

    rows = skipped_csv_rows(stack)
    assert rows[0] == ["location", "field", "problem"]
    assert [row[0] for row in rows[1:]] == ["row 5", "row 9"]
    # The field named by a formula-looking header is neutralised, and reads back as typed.
    assert rows[1][1] == "'" + FORMULA and original_cell(rows[1][1]) == FORMULA
    assert rows[1][2] == "is empty"

    listed = await shown_answer(stack, OWNER, "datasets")
    assert "12 examples" in listed and "2 bad rows skipped at upload" in listed, listed
    detail = await shown_answer(stack, OWNER, "datasets mixed")
    assert "12 examples" in detail and "2 bad rows skipped at upload" in detail, detail


async def test_the_default_stays_strict(stack: OfflineStack) -> None:
    answer = await upload(stack, "mixed.csv", mixed_csv(), skip=False)
    assert "was not stored: 2 problems" in answer.text, answer.text
    assert store_of(stack).datasets.count() == 0
    assert not [f for f in stack.workspace.uploads(OWNER_DM) if f.name.endswith(".csv")]


async def test_too_few_good_rows_still_refuse(stack: OfflineStack) -> None:
    answer = await upload(stack, "few.csv", mixed_csv(good=8), skip=True)
    assert "Skipping the bad rows would leave 8 examples; at least 10 are needed" in answer.text, answer.text
    assert store_of(stack).datasets.count() == 0


async def test_ten_good_rows_are_enough(stack: OfflineStack) -> None:
    answer = await upload(stack, "ten.csv", mixed_csv(good=10), skip=True)
    assert "10 of 12 examples" in answer.text, answer.text


async def test_a_problem_with_the_whole_file_still_refuses(stack: OfflineStack) -> None:
    latin1 = ("input,output\n" + good_rows(12) + "caf\xe9,ol\xe9\n").encode("latin-1")
    answer = await upload(stack, "latin1.csv", latin1, skip=True)
    assert "not UTF-8" in answer.text and "was not stored" in answer.text, answer.text
    wrong_column = await upload(stack, "cols.csv", mixed_csv(), skip=True, output_column="missing")
    assert "no output column named `missing`" in wrong_column.text, wrong_column.text
    assert store_of(stack).datasets.count() == 0


async def test_mentioning_the_bot_with_skip_bad_rows_skips_them(stack: OfflineStack) -> None:
    assert stack.sender is not None
    seen = len(ephemerals_for(stack, OWNER))
    file = stack.workspace.add_file("mixed.csv", mixed_csv(), user=OWNER)
    bot = stack.workspace.bot_user_id
    await stack.sender.message(OWNER, CHANNEL, f"<@{bot}> skip bad rows please", files=[file])
    answer = await next_ephemeral(stack, OWNER, seen)
    assert "12 of 14 examples" in answer.text, answer.text


def test_a_json_document_cut_off_is_a_problem_with_the_file() -> None:
    examples = ",".join(f'{{"text_input": "q{n}", "output": "a{n}"}}' for n in range(12))
    parsed = parse_dataset(f"[{examples}, {{".encode(), "cut.json")
    assert file_level_problems(parsed), parsed.problems


def test_an_unclosed_quote_that_swallows_the_rest_is_a_problem_with_the_file() -> None:
    content = ("input,output\n" + good_rows(12) + 'x,"never closed\n' + good_rows(5, 20)).encode()
    parsed = parse_dataset(content, "quote.csv")
    assert file_level_problems(parsed), parsed.problems


def test_the_csv_says_when_it_lists_only_the_first_problems() -> None:
    bad = "".join(f"question {n},\n" for n in range(1_005))
    parsed = parse_dataset(("input,output\n" + good_rows(20) + bad).encode(), "many.csv")
    assert parsed.problem_count == 1_005 and len(parsed.problems) == 1_000
    assert not file_level_problems(parsed) and skipped_rows(parsed) == 1_005
    rows = list(csv.reader(io.StringIO(skipped_csv(parsed.problems, parsed.problem_count).decode())))
    assert len(rows) == 1 + 1_000 + 1
    assert rows[-1][2] == "only the first 1,000 of 1,005 problems are listed"


async def test_more_problems_than_are_listed_are_all_counted(stack: OfflineStack) -> None:
    bad = "".join(f"question {n},\n" for n in range(1_005))
    answer = await upload(stack, "many.csv", ("input,output\n" + good_rows(20) + bad).encode(), skip=True)
    assert "20 of 1,025 examples" in answer.text and "1,005 rows skipped" in answer.text, answer.text
    rows = skipped_csv_rows(stack)
    assert rows[-1][2] == "only the first 1,000 of 1,005 problems are listed"
