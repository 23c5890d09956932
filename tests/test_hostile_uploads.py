"""Hostile example files (100,000-deep JSON, a deep JSON Lines line, a 5,000-digit integer,
a lone surrogate escape) uploaded through the modal and attached to a mention: each gets
a specific, line- or row-level answer, the submission is acknowledged at once, nothing is
stored."""

from __future__ import annotations

import json

import pytest

from standins.offline import OfflineStack
from tests.helpers.slack import CHANNEL, OWNER, ephemerals_for, next_ephemeral, store_of, upload_file

DEEP = 100_000
GOOD_LINES = "".join(json.dumps({"text_input": f"q{n}", "output": f"a{n}"}) + "\n" for n in range(12))
GOOD_ITEMS = ", ".join(json.dumps({"text_input": f"q{n}", "output": f"a{n}"}) for n in range(12))

HOSTILE: dict[str, tuple[bytes, str]] = {
    "deep-array.json": (b"[" * DEEP + b"]" * DEEP, "line 1: "),
    "deep-object.json": (b'{"a":' * DEEP + b"1" + b"}" * DEEP, "line 1: "),
    "deep-value.json": (
        ('{"examples": {"examples": [' + GOOD_ITEMS + ', {"text_input": ').encode()
        + b"[" * DEEP
        + b"]" * DEEP
        + b', "output": "x"}]}}',
        "line 1: ",
    ),
    "deep-line.jsonl": (
        GOOD_LINES.encode() + b'{"text_input": ' + b"[" * DEEP + b"]" * DEEP + b', "output": "x"}\n',
        "line 13: ",
    ),
    "huge-integer.json": (
        ('[{"text_input": ' + "9" * 5000 + ', "output": "x"}, ' + GOOD_ITEMS + "]").encode(),
        "line 1: ",
    ),
    "huge-integer.jsonl": (
        ('{"text_input": ' + "9" * 5000 + ', "output": "x"}\n' + GOOD_LINES).encode(),
        "line 1: ",
    ),
    "surrogate.jsonl": ((GOOD_LINES + '{"text_input": "\\ud800", "output": "x"}\n').encode(), "line 13, "),
}
EXPECTED = {
    "deep": "nested hundreds of levels deep",
    "huge": "more than 4,300 digits",
    "surrogate": "surrogate",
}


def expected_words(name: str) -> str:
    return next(words for prefix, words in EXPECTED.items() if name.startswith(prefix))


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_a_hostile_file_in_the_upload_form_gets_a_specific_answer(
    stack: OfflineStack, name: str
) -> None:
    content, where = HOSTILE[name]
    answer = await upload_file(stack, OWNER, name, content)
    assert "was not stored" in answer.text, answer.text
    assert where in answer.text and expected_words(name) in answer.text, answer.text
    assert store_of(stack).datasets.names("T0TEAM") == []


@pytest.mark.parametrize(
    "name", ["deep-array.json", "deep-line.jsonl", "huge-integer.json", "surrogate.jsonl"]
)
async def test_a_hostile_file_attached_to_a_mention_gets_a_specific_answer(
    stack: OfflineStack, name: str
) -> None:
    assert stack.sender is not None
    content, where = HOSTILE[name]
    file = stack.workspace.add_file(name, content, user=OWNER)
    seen = len(ephemerals_for(stack, OWNER))
    sent = await stack.sender.message(OWNER, CHANNEL, f"<@{stack.workspace.bot_user_id}> data", files=[file])
    assert sent.status_code == 200
    answer = await next_ephemeral(stack, OWNER, seen)
    assert where in answer.text and expected_words(name) in answer.text, answer.text
