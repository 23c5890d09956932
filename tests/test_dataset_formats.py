"""Conversations as Vertex AI and OpenAI document them, an optional system column in the
other formats, the refusal of everything that is not text, and old files read as before."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from bot.datasets import Limits, ParsedDataset, TrainingExample, format_problems, parse_dataset
from bot.datasets.core import example_tokens
from bot.datasets.insight import DatasetInsight
from bot.datasets.limits import VERTEX_LIMITS
from bot.datasets.wording import FORMATS_TAKEN
from bot.presentation.insight import insight_lines

FORMATS = Path(__file__).parent / "data" / "formats"
DATA = Path(__file__).parent / "data"
ONE = Limits(min_examples=1)
FORMATS_NAMED = "tunebot reads Vertex AI's tuning format (`contents` with `user` and `model` turns"


def jsonl(*records: Any) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()


def parse(data: bytes, name: str = "chats.jsonl", limits: Limits = ONE) -> ParsedDataset:
    return parse_dataset(data, name, limits=limits)


def problems(parsed: ParsedDataset) -> list[str]:
    return [str(p) for p in parsed.problems]


def vertex(*turns: tuple[str, Any], system: Any = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "contents": [
            {"role": role, "parts": parts if isinstance(parts, list) else [{"text": parts}]}
            for role, parts in turns
        ]
    }
    if system is not None:
        record["systemInstruction"] = system
    return record


def openai(*messages: tuple[str, Any]) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": content} for role, content in messages]}


# ---- the documented examples, as they are ------------------------------------------------


def test_vertex_ai_documented_example() -> None:
    # Source: Google Cloud, "Tune Gemini models by using supervised fine-tuning", text tuning,
    # dataset format example:
    # https://cloud.google.com/vertex-ai/generative-ai/docs/models/tune_gemini/text_tune
    parsed = parse(
        (FORMATS / "vertex_text_tune_example.jsonl").read_bytes(), "vertex_text_tune_example.jsonl"
    )
    assert parsed.ok, problems(parsed)
    assert parsed.chat_format == "vertex"
    assert parsed.examples == [
        TrainingExample(
            text_input="What's your name?",
            output="I be Captain Barktholomew, the most feared pirate dog of the seven seas.",
            history=("Hi", "Argh! What brings ye to my ship?"),
            system="You are a pirate dog named Captain Barktholomew.",
        )
    ]
    assert parsed.shape.multi_turn == 1 and parsed.shape.with_system == 1
    assert parsed.shape.system_instruction == "You are a pirate dog named Captain Barktholomew."
    assert parsed.insight is not None and parsed.insight.turns.max == 2
    assert parsed.warnings == []


def test_openai_documented_example() -> None:
    # Source: OpenAI's fine-tuning example data (the guide's "Marv" examples):
    # https://github.com/openai/openai-node/blob/master/examples/fine-tuning-data.jsonl
    # (also https://platform.openai.com/docs/guides/fine-tuning, "Example format")
    parsed = parse((FORMATS / "openai_fine_tuning_data.jsonl").read_bytes(), "fine-tuning-data.jsonl")
    assert parsed.ok, problems(parsed)
    assert parsed.chat_format == "openai"
    assert parsed.example_count == 10
    assert parsed.examples[0] == TrainingExample(
        "What's the capital of France?",
        "Paris, as if everyone doesn't know that already.",
        (),
        "Marv is a factual chatbot that is also sarcastic.",
    )
    assert parsed.examples[5].output == "100°C at sea level. Shocking, isn't it?"
    assert parsed.shape.with_system == 10 and parsed.shape.multi_turn == 0
    assert parsed.warnings == []


def test_openai_weight_is_reported_once_with_a_count() -> None:
    # Source: OpenAI's fine-tuning guide, "Multi-turn chat examples" (the first two lines):
    # https://platform.openai.com/docs/guides/fine-tuning, as quoted in
    # https://community.openai.com/t/how-to-assign-weights-during-chat-based-fine-tuning/1060699
    parsed = parse((FORMATS / "openai_weight_example.jsonl").read_bytes(), "weights.jsonl")
    assert parsed.ok, problems(parsed)
    assert parsed.examples[1] == TrainingExample(
        "Can you be more sarcastic?",
        "Oh, just some guy named William Shakespeare. Ever heard of him?",
        ("Who wrote 'Romeo and Juliet'?", "William Shakespeare"),
        "Marv is a factual chatbot that is also sarcastic.",
    )
    assert parsed.warnings == [
        "`weight` on 4 assistant turns is not carried over: Vertex AI trains on every model turn"
    ]


# ---- what each format may hold ---------------------------------------------------------------


def test_vertex_text_parts_are_joined_and_the_system_role_is_optional() -> None:
    record = vertex(
        ("user", [{"text": "Translate: "}, {"text": "cat"}]),
        ("model", "chat"),
        system={"parts": [{"text": "You translate "}, {"text": "into French."}]},
    )
    parsed = parse(jsonl(record))
    assert parsed.examples == [TrainingExample("Translate: cat", "chat", (), "You translate into French.")]


def test_vertex_records_in_a_json_array_and_a_plain_text_system_instruction() -> None:
    records = [vertex(("user", f"q{i}"), ("model", f"a{i}"), system="Be brief.") for i in range(3)]
    parsed = parse(json.dumps(records).encode(), "chats.json")
    assert parsed.ok and parsed.format == "json"
    assert parsed.examples[2] == TrainingExample("q2", "a2", (), "Be brief.")
    assert parsed.examples[0].system is parsed.examples[2].system  # one string for a repeated instruction


def test_openai_developer_role_and_text_parts() -> None:
    record = openai(
        ("developer", "Answer in French."),
        ("user", [{"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}]),
        ("assistant", "Bonjour"),
        ("user", "Thanks"),
        ("assistant", [{"type": "text", "text": "De rien"}]),
    )
    parsed = parse(jsonl(record))
    assert parsed.examples == [
        TrainingExample("Thanks", "De rien", ("Hello, world", "Bonjour"), "Answer in French.")
    ]
    assert parsed.examples[0].turn_count == 2


def test_unknown_keys_beside_a_conversation_are_named() -> None:
    parsed = parse(jsonl({**openai(("user", "q"), ("assistant", "a")), "id": 7}))
    assert parsed.ok
    assert parsed.warnings == ["ignored unknown keys: `id` (in 1 example)"]


@pytest.mark.parametrize("column", ["system", "system_instruction", "systemInstruction", "system_prompt"])
def test_a_system_column_in_csv_tsv_json_and_json_lines(column: str) -> None:
    rows = [("q1", "a1", "Be brief."), ("q2", "a2", "")]
    csv_data = f"text_input,output,{column}\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows)
    tsv_data = f"input\tresponse\t{column}\n" + "".join(f"{a}\t{b}\t{c}\n" for a, b, c in rows)
    records = [{"text_input": a, "output": b, column: c} for a, b, c in rows]
    expected = [TrainingExample("q1", "a1", (), "Be brief."), TrainingExample("q2", "a2")]
    for data, name in (
        (csv_data.encode(), "x.csv"),
        (tsv_data.encode(), "x.tsv"),
        (json.dumps(records).encode(), "x.json"),
        (jsonl(*records), "x.jsonl"),
    ):
        parsed = parse(data, name)
        assert parsed.ok, (name, problems(parsed))
        assert parsed.examples == expected, name
        assert parsed.warnings == [], name
        assert parsed.shape.with_system == 1


def test_instruction_is_not_a_system_instruction() -> None:
    # Alpaca-style files put the task in `instruction`: it is not taken as a system instruction.
    parsed = parse(jsonl({"instruction": "Add one", "input": "1", "output": "2"}))
    assert parsed.examples == [TrainingExample("1", "2")]
    assert parsed.warnings == ["ignored unknown keys: `instruction` (in 1 example)"]


def test_a_system_value_that_is_not_text_is_refused() -> None:
    parsed = parse(jsonl({"text_input": "q", "output": "a", "system": 5}))
    assert problems(parsed) == ["line 1, `system`: is a number (5), not text"]


# ---- refusals, row by row ---------------------------------------------------------------------

REFUSALS: list[tuple[str, dict[str, Any], str]] = [
    (
        "vertex image",
        vertex(
            ("user", [{"text": "What is this?"}, {"inlineData": {"mimeType": "image/png", "data": "iVBO"}}]),
            ("model", "A cat"),
        ),
        "line 1, turn 1: holds an image (`inlineData`); tunebot tunes on text only",
    ),
    (
        "vertex pdf",
        vertex(
            ("user", [{"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/a.pdf"}}]),
            ("model", "x"),
        ),
        "line 1, turn 1: holds a PDF document (`fileData`); tunebot tunes on text only",
    ),
    (
        "vertex audio",
        vertex(
            ("user", [{"fileData": {"mimeType": "audio/mp3", "fileUri": "gs://b/a.mp3"}}]), ("model", "x")
        ),
        "line 1, turn 1: holds audio (`fileData`); tunebot tunes on text only",
    ),
    (
        "vertex function call",
        vertex(("user", "weather?"), ("model", [{"functionCall": {"name": "weather", "args": {}}}])),
        "line 1, turn 2: holds a function call (`functionCall`); tunebot tunes on text only: leave it out",
    ),
    (
        "vertex function response",
        vertex(("user", [{"functionResponse": {"name": "weather", "response": {}}}]), ("model", "Sunny")),
        "line 1, turn 1: holds a function response (`functionResponse`); tunebot tunes "
        "on text only: leave it out",
    ),
    (
        "vertex assistant role",
        vertex(("user", "q"), ("assistant", "a")),
        'line 1, turn 2: has role `assistant`; Vertex AI names the model\'s turns `"model"`',
    ),
    (
        "vertex system turn",
        vertex(("system", "Be brief."), ("user", "q"), ("model", "a")),
        "line 1, turn 1: is a `system` turn; put the system instruction in "
        "`systemInstruction`, not in `contents`",
    ),
    (
        "vertex unknown role",
        vertex(("user", "q"), ("bot", "a")),
        "line 1, turn 2: has role `bot`; the roles are `user` and `model`",
    ),
    (
        "vertex missing role",
        {"contents": [{"parts": [{"text": "q"}]}, {"role": "model", "parts": [{"text": "a"}]}]},
        'line 1, turn 1: has no `role`; each turn needs `"role": "user"` or `"role": '
        '"model"`, alternating and '
        "starting with `user`",
    ),
    (
        "vertex not alternating",
        vertex(("user", "q"), ("user", "q again"), ("model", "a")),
        "line 1, turn 2: is a `user` turn after a `user` turn; turns must alternate "
        "`user`, `model`, `user`, … "
        "(merge the two, or add the missing turn between them)",
    ),
    (
        "vertex starts with model",
        vertex(("model", "Hello!"), ("user", "q"), ("model", "a")),
        "line 1, turn 1: is a `model` turn; a conversation starts with a `user` turn",
    ),
    (
        "vertex ends with user",
        vertex(("user", "q"), ("model", "a"), ("user", "and?")),
        "line 1, turn 3: the conversation ends with a `user` turn; it must end with the `model` turn that "
        "answers it (add the answer, or remove the last turn)",
    ),
    (
        "vertex empty turn",
        vertex(("user", "q"), ("model", "")),
        "line 1, turn 2: is empty; give every turn its text (or remove the turn and the one answering it)",
    ),
    (
        "vertex whitespace turn",
        vertex(("user", " \n"), ("model", "a")),
        "line 1, turn 1: is empty (only whitespace); give every turn its text",
    ),
    (
        "vertex empty contents",
        {"contents": []},
        "line 1, `contents`: is empty; give the conversation a `user` turn and the "
        "`model` turn that answers it",
    ),
    (
        "vertex contents not a list",
        {"contents": "hello"},
        'line 1, `contents`: is text, not a list of turns like `[{"role": "user", '
        '"parts": [{"text": "…"}]}, …]`',
    ),
    (
        "vertex no parts",
        {"contents": [{"role": "user"}, {"role": "model", "parts": [{"text": "a"}]}]},
        'line 1, turn 1: has no `parts`; give the turn `"parts": [{"text": "…"}]`',
    ),
    (
        "vertex empty parts",
        vertex(("user", []), ("model", "a")),
        'line 1, turn 1: has no parts (`"parts": []`); give the turn its text',
    ),
    (
        "vertex system instruction not an object",
        vertex(("user", "q"), ("model", "a"), system=3),
        'line 1, `systemInstruction`: is a number (3), not an object like `{"parts": [{"text": "…"}]}`',
    ),
    (
        "vertex image in the system instruction",
        vertex(
            ("user", "q"),
            ("model", "a"),
            system={"parts": [{"inlineData": {"mimeType": "image/jpeg", "data": "x"}}]},
        ),
        "line 1, `systemInstruction`: holds an image (`inlineData`); tunebot tunes on text only",
    ),
    (
        "vertex part without text",
        vertex(("user", [{"txt": "q"}]), ("model", "a")),
        'line 1, turn 1: has a part without `text` (found `txt`); each part is `{"text": "…"}`',
    ),
    (
        "openai image",
        openai(
            (
                "user",
                [{"type": "text", "text": "What is it?"}, {"type": "image_url", "image_url": {"url": "x"}}],
            ),
            ("assistant", "A cat"),
        ),
        "line 1, message 1: holds an image (`image_url`); tunebot tunes on text only",
    ),
    (
        "openai audio",
        openai(
            ("user", [{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}]),
            ("assistant", "Hi"),
        ),
        "line 1, message 1: holds audio (`input_audio`); tunebot tunes on text only",
    ),
    (
        "openai file",
        openai(("user", [{"type": "file", "file": {"file_id": "f"}}]), ("assistant", "Read it")),
        "line 1, message 1: holds a file (`file`); tunebot tunes on text only",
    ),
    (
        "openai tool calls",
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
            ]
        },
        "line 1, message 2: holds a function call (`tool_calls`); tunebot tunes on text only: leave it out",
    ),
    (
        "openai function call",
        {
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "function_call": {"name": "weather", "arguments": "{}"}},
            ]
        },
        "line 1, message 2: holds a function call (`function_call`); tunebot tunes on "
        "text only: leave it out",
    ),
    (
        "openai tool role",
        openai(("user", "q"), ("tool", "42"), ("assistant", "a")),
        "line 1, message 2: is a tool result (role `tool`); tunebot tunes on text only: leave out tool calls "
        "and their results",
    ),
    (
        "openai function role",
        openai(("user", "q"), ("function", "42"), ("assistant", "a")),
        "line 1, message 2: is a tool result (role `function`); tunebot tunes on text only: leave out tool "
        "calls and their results",
    ),
    (
        "openai model role",
        openai(("user", "q"), ("model", "a")),
        "line 1, message 2: has role `model`; in OpenAI's format the model's turns are `assistant`",
    ),
    (
        "openai system later",
        openai(("user", "q"), ("assistant", "a"), ("system", "Be brief.")),
        "line 1, message 3: is a `system` message after the conversation has started; Vertex AI takes one "
        "system instruction, before the turns: move it to the start",
    ),
    (
        "openai assistant first",
        openai(("system", "s"), ("assistant", "Hi!"), ("user", "q"), ("assistant", "a")),
        "line 1, message 2: is an `assistant` message before any `user` message; a conversation starts with "
        "`user`",
    ),
    (
        "openai not alternating",
        openai(("user", "q"), ("assistant", "a"), ("assistant", "b")),
        "line 1, message 3: is a `assistant` message after a `assistant` message; messages must alternate "
        "`user`, `assistant`, … (merge the two, or add the missing message between them)",
    ),
    (
        "openai ends with user",
        openai(("user", "q"), ("assistant", "a"), ("user", "more?")),
        "line 1, message 3: the conversation ends with a `user` message; it must end with the `assistant` "
        "message that answers it (add the answer, or remove the last message)",
    ),
    (
        "openai only a system message",
        openai(("system", "Be brief.")),
        "line 1, `messages`: holds only a system message; add a `user` message and the `assistant` message "
        "that answers it",
    ),
    (
        "openai empty messages",
        {"messages": []},
        "line 1, `messages`: is empty; give the conversation a `user` message and the `assistant` message "
        "that answers it",
    ),
    (
        "openai no content",
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant"}]},
        "line 1, message 2: has no `content`; give the message its text",
    ),
    (
        "openai empty content",
        openai(("user", "q"), ("assistant", "")),
        "line 1, message 2: is empty; give every turn its text (or remove the turn and the one answering it)",
    ),
    (
        "sharegpt",
        {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]},
        "line 1: is a chat record in a format tunebot does not read (`conversations`): " + FORMATS_TAKEN,
    ),
]


@pytest.mark.parametrize(("record", "expected"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_each_refusal_names_the_row_the_turn_and_what_to_do(record: dict[str, Any], expected: str) -> None:
    parsed = parse(jsonl(record))
    assert not parsed.ok
    assert problems(parsed) == [expected]
    assert parsed.examples == []


def test_a_bad_conversation_is_refused_alone() -> None:
    good = vertex(("user", "q"), ("model", "a"))
    parsed = parse(jsonl(good, vertex(("user", "q"), ("model", "")), good))
    assert problems(parsed) == [
        "line 2, turn 2: is empty; give every turn its text (or remove the turn and the one answering it)"
    ]
    assert parsed.example_count == 2


def test_every_empty_turn_of_a_conversation_is_named() -> None:
    parsed = parse(jsonl(vertex(("user", ""), ("model", "a"), ("user", "q"), ("model", " "))))
    assert [p.turn for p in parsed.problems] == ["turn 1", "turn 4"]


def test_a_lone_surrogate_in_a_turn_is_named() -> None:
    line = (
        '{"contents": [{"role": "user", "parts": [{"text": "a\\ud800b"}]}, {"role": '
        '"model", "parts": [{"text": "c"}]}]}\n'
    )
    parsed = parse(line.encode())
    assert len(parsed.problems) == 1
    assert str(parsed.problems[0]).startswith("line 1, turn 1: holds the escape `\\ud800`")


def test_chat_records_in_a_csv_or_one_json_object_say_which_formats_are_read() -> None:
    csv_parsed = parse(b'messages\n"[{""role"": ""user""}]"\n', "chats.csv")
    assert problems(csv_parsed)[0].startswith(
        "The file has a column `messages`: conversations are read from JSON Lines"
    )
    body = parse(json.dumps(vertex(("user", "q"), ("model", "a"))).encode(), "one.json")
    assert problems(body)[0].startswith("The file is one JSON object with `contents`: conversations are read")
    assert FORMATS_NAMED in problems(body)[0]


def test_on_the_gemini_limits_each_turn_is_held_to_the_field_limits() -> None:
    limits = Limits(min_examples=1, max_input_chars=10, max_output_chars=5)
    parsed = parse(
        jsonl(vertex(("user", "x" * 10), ("model", "y" * 6), ("user", "x" * 11), ("model", "y" * 5))),
        limits=limits,
    )
    assert problems(parsed) == [
        "line 1, turn 2: is 6 characters; the limit is 5",
        "line 1, turn 3: is 11 characters; the limit is 10",
    ]


# ---- grouped problems -----------------------------------------------------------------------


def test_ten_thousand_rows_with_one_problem_hear_it_once() -> None:
    data = b"text_input,output\n" + b"q,\n" * 10_000
    parsed = parse(data, "blank.csv")
    assert parsed.problem_count == 10_000 and len(parsed.problems) == 1_000
    assert format_problems(parsed).splitlines() == [
        "`blank.csv` was not stored: 10,000 problems",
        "• rows 2, 3, 4, 5, 6 and 9,995 more: `output` is empty",
    ]


def test_kinds_past_the_detailed_problems_are_still_counted_and_ordered_by_first_row() -> None:
    limits = Limits(min_examples=1, max_problem_details=3)
    records = [vertex(("user", "q"), ("model", "")) for _ in range(5)]
    records += [vertex(("user", "q"), ("assistant", "a")) for _ in range(4)]
    records.append({"contents": []})
    parsed = parse(jsonl(*records), limits=limits)
    assert parsed.problem_count == 10 and len(parsed.problems) == 3
    assert format_problems(parsed).splitlines() == [
        "`chats.jsonl` was not stored: 10 problems",
        "• lines 1 (turn 2), 2 (turn 2), 3 (turn 2), 4 (turn 2) and 5 (turn 2): is "
        "empty; give every turn its text "
        "(or remove the turn and the one answering it)",
        "• lines 6 (turn 2), 7 (turn 2), 8 (turn 2) and 9 (turn 2): has role "
        "`assistant`; Vertex AI names the "
        'model\'s turns `"model"`',
        "• line 10, `contents`: is empty; give the conversation a `user` turn and the "
        "`model` turn that answers it",
    ]


def test_grouped_problems_are_escaped_for_slack() -> None:
    data = b"text_input,output\n" + b"<b>,\n" * 3
    text = format_problems(parse(data, "<x>.csv"))
    assert "<" not in text and "&lt;x&gt;" in text


# ---- old files read as before ---------------------------------------------------------------

GOLDEN: dict[str, dict[str, Any]] = json.loads(
    (FORMATS / "before_conversations.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_files_accepted_before_read_exactly_as_before(name: str) -> None:
    # before_conversations.json: what the parser before conversations (main at 55ac2eb) made of
    # every corpus file (examples, problems, warnings), less the chat files whose refusal was the bug.
    before = GOLDEN[name]
    parsed = parse_dataset((DATA / name).read_bytes(), Path(name).name)
    rows = [[e.text_input, e.output] for e in parsed.examples]
    assert all(e.history == () and e.system is None for e in parsed.examples)
    assert parsed.format == before["format"]
    assert len(rows) == before["examples"]
    assert (
        hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest() == before["examples_sha256"]
    )
    assert [str(p) for p in parsed.problems] == before["problems"]
    assert parsed.problem_count == before["problem_count"]
    assert parsed.warnings == before["warnings"]


def test_vertex_limits_take_long_outputs_the_gemini_limits_refuse() -> None:
    record = {"text_input": "Write a story", "output": "w" * 6_000}
    data = jsonl(*([record] * 10))
    assert not parse_dataset(data, "long.jsonl").ok
    assert parse_dataset(data, "long.jsonl", limits=VERTEX_LIMITS).ok


# ---- what the insight says about conversations ------------------------------------------------


def test_insight_of_conversations() -> None:
    system = {"parts": [{"text": "Be brief."}]}
    three = vertex(
        ("user", "hi"),
        ("model", "hello"),
        ("user", "how?"),
        ("model", "so"),
        ("user", "ok"),
        ("model", "bye"),
    )
    records = [
        {**three, "systemInstruction": system},
        {**three, "systemInstruction": system},  # the same conversation again
        {
            **vertex(
                ("user", "hi"),
                ("model", "hello"),
                ("user", "how?"),
                ("model", "so"),
                ("user", "ok"),
                ("model", "ciao"),
            ),
            "systemInstruction": system,
        },
        vertex(("user", "hi"), ("model", "hello")),
    ]
    parsed = parse(jsonl(*records))
    insight = parsed.insight
    assert insight is not None and insight.examples == 4
    assert (insight.turns.min, insight.turns.median, insight.turns.max) == (1, 3, 3)
    assert insight.with_system == 3
    # Input: the system instruction and every user turn; output: every model turn.
    assert insight.input_chars.max == len("Be brief.") + len("hi") + len("how?") + len("ok")
    assert insight.output_chars.max == len("hello") + len("so") + len("ciao")
    # Duplicates are whole conversations; a conversation that differs only in its last answer conflicts.
    assert insight.exact_duplicates.rows == ["line 2 (same as line 1)"]
    assert insight.conflicting_duplicates.rows == ["line 3 (same input as line 1, another output)"]
    assert insight.preview == [("ok", "bye"), ("ok", "bye"), ("ok", "ciao")]
    assert insight.preview_turns == [3, 3, 3]
    assert insight.total_tokens == sum(example_tokens(e) for e in parsed.examples)
    assert DatasetInsight.from_json(insight.to_json()) == insight


def test_insight_stored_before_conversations_still_loads() -> None:
    pairs = parse_dataset(
        b"text_input,output\n" + b"".join(b"q%d,a%d\n" % (i, i) for i in range(10)), "p.csv"
    )
    assert pairs.insight is not None and not pairs.insight.conversational
    stored = json.loads(pairs.insight.to_json())
    for key in ("turns", "with_system", "preview_turns"):
        stored.pop(key)
    loaded = DatasetInsight.from_json(json.dumps(stored))
    assert loaded == pairs.insight
    assert loaded is not None and loaded.turns.max == 1 and loaded.preview_turns == []


def test_insight_lines_show_turns_and_the_system_instruction() -> None:
    three = vertex(
        ("user", "hi"),
        ("model", "hello"),
        ("user", "how?"),
        ("model", "so"),
        ("user", "ok"),
        ("model", "bye"),
    )
    records = [{**three, "systemInstruction": f"Be brief {i}."} for i in range(4)]
    parsed = parse_dataset(
        jsonl(*records), "chats.jsonl", limits=dataclasses.replace(VERTEX_LIMITS, min_examples=1)
    )
    assert parsed.insight is not None
    text = "\n".join(insight_lines(parsed.insight))
    assert "• Inputs (system instruction and user turns): " in text
    assert "• Outputs (model turns): " in text
    assert "• Turns per example (user turns, each answered): min 3 · median 3 · p95 3 · max 3" in text
    assert "• With a system instruction: 4 of 4 examples" in text
    assert "> ok  →  bye  _(3 turns)_" in text
    assert "character limit" not in text  # Vertex AI has no per-field character limits


def test_insight_lines_of_pairs_are_unchanged() -> None:
    parsed = parse_dataset(
        b"text_input,output\n" + b"".join(b"q%d,a%d\n" % (i, i) for i in range(10)), "p.csv"
    )
    assert parsed.insight is not None
    lines = insight_lines(parsed.insight)
    assert lines[1].startswith("• Inputs: ") and lines[2].startswith("• Outputs: ")
    assert not any("Turns per example" in line or "system instruction" in line for line in lines)
    assert "• Conflicting duplicates (same input, different output): none" in lines
    assert "> q0  →  a0" in lines


def test_names_from_the_file_are_clipped_in_problems() -> None:
    parsed = parse(jsonl(vertex(("user", "q"), ("`" + "r" * 5_000, "a"))))
    message = problems(parsed)[0]
    assert len(message) < 200
    assert message.startswith("line 1, turn 2: has role `'rrrr")


def test_conversations_and_grouped_problems_come_back_whole_from_a_worker() -> None:
    # What a validation worker sends back (bot.datasets.pool): strings, rebuilt in the parent.
    from bot.datasets.pool import parse_upload, unpack

    data = (FORMATS / "vertex_text_tune_example.jsonl").read_bytes()
    assert unpack(parse_upload(data, "v.jsonl", None, None, ONE)).examples == parse(data).examples
    bad = jsonl(*[vertex(("user", "q"), ("model", ""))] * 3)
    back = unpack(parse_upload(bad, "b.jsonl", None, None, ONE))
    assert [(g.count, g.message) for g in back.problem_groups] == [
        (3, "is empty; give every turn its text (or remove the turn and the one answering it)")
    ]


def test_openai_turns_over_a_limit_are_numbered_as_messages() -> None:
    limits = Limits(min_examples=1, max_input_chars=10, max_output_chars=5)
    record = openai(("system", "short"), ("developer", "also"), ("user", "q"), ("assistant", "y" * 6))
    assert problems(parse(jsonl(record), limits=limits)) == [
        "line 1, message 4: is 6 characters; the limit is 5"
    ]
