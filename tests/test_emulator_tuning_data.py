"""The Vertex emulator reads a tuning file as Vertex does (issue #20, item 11): every line is
checked once the job is created, and a bad line fails the job in its dataset step with an
INVALID_ARGUMENT error naming the file, the line and the problem (a missing file is refused at
create); the data stats come from the file; the tuned model answers from the whole
conversation and the system instruction. Driven through google-genai (Vertex mode) and
through tunebot's Vertex backend."""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from bot.backends.vertex_backend import VertexBackend
from bot.domain.types import Conversation, JobState, TrainingExample, TuningRequest, Turn
from bot.google import RetryPolicy
from bot.vertex import StaticToken, VertexClient
from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator
from standins.emulator.vertex import datasets
from tests.helpers.google import LOCATION, PROJECT, static_credentials

pytestmark = pytest.mark.usefixtures("offline_google")
BUCKET = "tuning-data"
SYSTEM = {"role": "system", "parts": [{"text": "Answer in French."}]}


def turn(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"text": text}]}


def line(contents: Any, **extra: Any) -> str:
    return json.dumps({**extra, "contents": contents})


GOOD = [line([turn("user", f"q{n}"), turn("model", f"a{n}")]) for n in range(20)]
CHAT = line(
    [turn("user", "hi"), turn("model", "hello"), turn("user", "and you?"), turn("model", "fine")],
    systemInstruction=SYSTEM,
)


@pytest.fixture
def vertex_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(clock=FrozenClock(), step_seconds=1.0)) as running:
        yield running


def client_of(emulator: RunningEmulator) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=static_credentials(),
        http_options=types.HttpOptions(base_url=emulator.url),
    )


def tune(
    client: genai.Client, emulator: RunningEmulator, lines: list[str], *, validation: list[str] | None = None
) -> str:
    """A job on a file of `lines` (and a validation file); its name."""
    emulator.emulator.storage.insert(BUCKET, "train.jsonl", "\n".join(lines).encode())
    config = types.CreateTuningJobConfig(epoch_count=1)
    if validation is not None:
        emulator.emulator.storage.insert(BUCKET, "valid.jsonl", "\n".join(validation).encode())
        config.validation_dataset = types.TuningValidationDataset(gcs_uri=f"gs://{BUCKET}/valid.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        job = client.tunings.tune(
            base_model="gemini-2.5-flash",
            training_dataset=types.TuningDataset(gcs_uri=f"gs://{BUCKET}/train.jsonl"),
            config=config,
        )
    assert job.name
    return job.name


BAD_LINES = {
    "no contents": (json.dumps({"messages": []}), "`contents` is required"),
    "empty contents": (line([]), "`contents` is required"),
    "an OpenAI role": (
        line([turn("user", "q"), turn("assistant", "a")]),
        "Please use a valid role: user, model (got `assistant`)",
    ),
    "a system role in contents": (
        line([turn("system", "s"), turn("user", "q"), turn("model", "a")]),
        "Please use a valid role: user, model (got `system`)",
    ),
    "starts with the model": (
        line([turn("model", "a"), turn("user", "q"), turn("model", "a")]),
        "must alternate between `user` and `model`, starting with `user`",
    ),
    "two user turns in a row": (
        line([turn("user", "q"), turn("user", "q2"), turn("model", "a")]),
        "contents[1] has role `user`: the turns must alternate",
    ),
    "ends with a user turn": (
        line([turn("user", "q"), turn("model", "a"), turn("user", "q2")]),
        "the last turn of `contents` must be a `model` turn",
    ),
    "an image": (
        line([{"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]}]),
        "contents[0].parts[0] is a `inlineData` part: a text-only tuning job takes text parts only",
    ),
    "a file": (
        line([{"role": "user", "parts": [{"fileData": {"fileUri": "gs://b/x.pdf"}}]}, turn("model", "a")]),
        "is a `fileData` part",
    ),
    "a function call": (
        line([turn("user", "q"), {"role": "model", "parts": [{"functionCall": {"name": "f"}}]}]),
        "contents[1].parts[0] is a `functionCall` part",
    ),
    "a system instruction without parts": (
        line([turn("user", "q"), turn("model", "a")], systemInstruction={"role": "system"}),
        "systemInstruction.parts must be a non-empty list",
    ),
    "a system instruction with an image": (
        line(
            [turn("user", "q"), turn("model", "a")],
            systemInstruction={"parts": [{"inlineData": {"mimeType": "image/png", "data": "AA=="}}]},
        ),
        "systemInstruction.parts[0] is a `inlineData` part",
    ),
    "too many tokens": (
        line([turn("user", "x" * 4 * 131_000), turn("model", "y" * 4 * 100)]),
        "the example has 131,100 tokens, which exceeds the maximum number of tokens per example (131,072)",
    ),
    "not JSON": ("{contents: [", "the line is not valid JSON"),
}


@pytest.mark.parametrize("bad", list(BAD_LINES), ids=list(BAD_LINES))
def test_a_bad_line_fails_the_job_in_its_dataset_step(vertex_emulator: RunningEmulator, bad: str) -> None:
    text, wanted = BAD_LINES[bad]
    client = client_of(vertex_emulator)
    name = tune(client, vertex_emulator, [*GOOD[:3], text, *GOOD[3:]])
    assert client.tunings.get(name=name).state == types.JobState.JOB_STATE_PENDING  # created
    vertex_emulator.advance(1.5)  # RUNNING: processing the dataset
    assert client.tunings.get(name=name).state == types.JobState.JOB_STATE_RUNNING
    vertex_emulator.advance(1)
    failed = client.tunings.get(name=name)
    assert failed.state == types.JobState.JOB_STATE_FAILED and failed.error is not None
    assert failed.error.code == 3  # INVALID_ARGUMENT
    message = failed.error.message or ""
    assert message.startswith(f"Invalid training dataset gs://{BUCKET}/train.jsonl: line 4: "), message
    assert wanted in message, message
    assert failed.tuned_model is None or failed.tuned_model.endpoint is None


def test_a_conversation_with_a_system_instruction_tunes_and_fills_the_data_stats(
    vertex_emulator: RunningEmulator,
) -> None:
    client = client_of(vertex_emulator)
    name = tune(client, vertex_emulator, [*GOOD[:5], CHAT])
    vertex_emulator.emulator.finish_all()
    done = client.tunings.get(name=name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.tuning_data_stats is not None
    stats = done.tuning_data_stats.supervised_tuning_data_stats
    assert stats is not None and stats.tuning_dataset_example_count == 6
    per_example = stats.user_message_per_example_distribution
    assert per_example is not None and per_example.max == 2 and per_example.min == 1
    assert per_example.sum == 7
    assert stats.total_billable_token_count == sum(
        datasets.example_tokens(datasets.check_line(text)) for text in [*GOOD[:5], CHAT]
    )
    assert stats.user_output_token_distribution is not None
    assert done.tuned_model is not None and done.tuned_model.endpoint
    # the tuned model answers the follow-up from the conversation it learnt
    answer = client.models.generate_content(
        model=done.tuned_model.endpoint,
        contents=[
            types.Content(role="user", parts=[types.Part(text="hi")]),
            types.Content(role="model", parts=[types.Part(text="hello")]),
            types.Content(role="user", parts=[types.Part(text="and you?")]),
        ],
        config=types.GenerateContentConfig(system_instruction="Answer in French."),
    )
    assert answer.text == "fine"
    body = vertex_emulator.emulator.vertex.generate_requests[-1]
    assert len(body["contents"]) == 3 and body["systemInstruction"]["parts"] == [
        {"text": "Answer in French."}
    ]
    assert answer.usage_metadata is not None and answer.usage_metadata.prompt_token_count == sum(
        datasets.generation.count_tokens(t) for t in ("hi", "hello", "and you?", "Answer in French.")
    )


def test_the_system_instruction_a_model_learnt_changes_its_answer(vertex_emulator: RunningEmulator) -> None:
    french = {"parts": [{"text": "Answer in French."}]}
    german = {"parts": [{"text": "Answer in German."}]}
    lines = [
        line([turn("user", "Hello"), turn("model", "Bonjour")], systemInstruction=french),
        line([turn("user", "Hello"), turn("model", "Hallo")], systemInstruction=german),
    ]
    client = client_of(vertex_emulator)
    name = tune(client, vertex_emulator, lines)
    vertex_emulator.emulator.finish_all()
    endpoint = (client.tunings.get(name=name).tuned_model or types.TunedModel()).endpoint
    assert endpoint

    def ask(system: str | None) -> str | None:
        config = types.GenerateContentConfig(system_instruction=system) if system else None
        return client.models.generate_content(model=endpoint, contents="Hello", config=config).text

    assert (ask("Answer in German."), ask("Answer in French."), ask("Answer in German.")) == (
        "Hallo",
        "Bonjour",
        "Hallo",
    )


def test_the_validation_file_is_checked_and_limited_to_5000_examples(
    vertex_emulator: RunningEmulator,
) -> None:
    client = client_of(vertex_emulator)
    name = tune(client, vertex_emulator, GOOD, validation=[GOOD[0]] * 5001)
    vertex_emulator.advance(3)
    failed = client.tunings.get(name=name)
    assert failed.state == types.JobState.JOB_STATE_FAILED and failed.error is not None
    assert failed.error.message == (
        f"Validation dataset gs://{BUCKET}/valid.jsonl has more than 5,000 examples; at most 5,000 are "
        "allowed in a validation dataset."
    )
    bad = tune(client, vertex_emulator, GOOD, validation=[GOOD[0], line([turn("user", "q")])])
    vertex_emulator.advance(3)
    message = (client.tunings.get(name=bad).error or types.JobError()).message or ""
    assert message.startswith(f"Invalid validation dataset gs://{BUCKET}/valid.jsonl: line 2: the last turn")


def test_the_file_size_and_example_count_limits(
    vertex_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the real limits (1 GB, 10M examples) with the limits made small."""
    client = client_of(vertex_emulator)
    monkeypatch.setattr(datasets, "MAX_EXAMPLES", 5)
    name = tune(client, vertex_emulator, GOOD[:6])
    vertex_emulator.advance(3)
    assert (client.tunings.get(name=name).error or types.JobError()).message == (
        f"Training dataset gs://{BUCKET}/train.jsonl has more than 5 examples; at most 5 are allowed."
    )
    monkeypatch.setattr(datasets, "MAX_FILE_BYTES", 100)
    name = tune(client, vertex_emulator, GOOD[:5])
    vertex_emulator.advance(3)
    message = (client.tunings.get(name=name).error or types.JobError()).message or ""
    assert "the maximum size of a JSONL dataset file is 1 GB" in message


def test_a_missing_file_is_refused_at_create(vertex_emulator: RunningEmulator) -> None:
    client = client_of(vertex_emulator)
    with warnings.catch_warnings(), pytest.raises(errors.ClientError) as caught:
        warnings.simplefilter("ignore")
        client.tunings.tune(
            base_model="gemini-2.5-flash",
            training_dataset=types.TuningDataset(gcs_uri=f"gs://{BUCKET}/nothing.jsonl"),
        )
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert "does not exist or is not readable" in str(caught.value.message)


@pytest.fixture
async def backend(vertex_emulator: RunningEmulator) -> AsyncIterator[VertexBackend]:
    client = VertexClient(
        project=PROJECT,
        location=LOCATION,
        tokens=StaticToken("emulator-token"),
        api_base=vertex_emulator.url,
        storage_base=vertex_emulator.url,
        retry=RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.002),
        http_client=httpx.AsyncClient(),
        operation_wait=0.0,
    )
    backend = VertexBackend(client, bucket=BUCKET)
    try:
        yield backend
    finally:
        await backend.aclose()


def request(examples: list[TrainingExample]) -> TuningRequest:
    return TuningRequest(
        display_name="chat",
        base_model="gemini-2.5-flash",
        examples=examples,
        epoch_count=1,
        batch_size=4,
        learning_rate=0.001,
        model_id="chat-abcd1234",
    )


CHATS = [
    TrainingExample("and next?", str(n + 2), history=(f"count from {n}", str(n + 1)), system="Be terse.")
    for n in range(1, 17)
]


async def test_tunebots_backend_tunes_a_conversational_dataset(
    backend: VertexBackend, vertex_emulator: RunningEmulator
) -> None:
    started = await backend.start(request(CHATS))
    vertex_emulator.emulator.finish_all()
    done = await backend.poll(started.operation_name)
    assert done.state is JobState.SUCCEEDED, done.error_message
    history = Conversation((Turn("user", "count from 7"), Turn("model", "8")), "Be terse.")
    assert await backend.generate(started.model_name, "and next?", conversation=history) == "9"
    [body] = vertex_emulator.emulator.vertex.generate_requests
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["systemInstruction"]["parts"] == [{"text": "Be terse."}]


async def test_tunebots_backend_reports_the_emulators_refusal(
    backend: VertexBackend, vertex_emulator: RunningEmulator
) -> None:
    """An example beyond Vertex's 131,072 tokens: the job fails with Vertex's reason."""
    huge = TrainingExample("x" * 4 * 131_100, "y")
    started = await backend.start(request([*CHATS, huge]))
    vertex_emulator.advance(10)
    failed = await backend.poll(started.operation_name)
    assert failed.state is JobState.FAILED
    assert "line 17: the example has 131,101 tokens, which exceeds the maximum number of tokens" in (
        failed.error_message or ""
    )


def test_google_cloud_aiplatform_sees_the_failed_dataset_step(vertex_emulator: RunningEmulator) -> None:
    """`vertexai.tuning.sft.train` (google-cloud-aiplatform, REST): the job is created, then
    refresh() shows it failed with the line and the reason."""
    import vertexai
    from vertexai.tuning import sft

    vertex_emulator.emulator.storage.insert(
        BUCKET,
        "chat.jsonl",
        "\n".join([*GOOD[:2], line([turn("user", "q"), turn("assistant", "a")])]).encode(),
    )
    vertexai.init(
        project=PROJECT,
        location=LOCATION,
        credentials=static_credentials(),
        api_endpoint=vertex_emulator.url,
        api_transport="rest",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vertexai.tuning is deprecated in favour of google-genai
        job = sft.train(source_model="gemini-2.5-flash", train_dataset=f"gs://{BUCKET}/chat.jsonl")
    assert job.state.name == "JOB_STATE_PENDING"
    vertex_emulator.advance(3)
    job.refresh()
    assert job.state.name == "JOB_STATE_FAILED" and job.has_ended
    assert job.error.code == 3
    assert job.error.message == (
        f"Invalid training dataset gs://{BUCKET}/chat.jsonl: line 3: contents[1]: "
        "Please use a valid role: user, model (got `assistant`)."
    )
