"""Base models answer generateContent on both surfaces (driven with Google's google-genai client):
deterministically, and worse than a model tuned on the task, so tests can show tuning helped."""

from __future__ import annotations

import google.auth.credentials
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

from bot.datasets.samples import TUTORIAL_EXAMPLES
from bot.gemini import GeminiClient
from bot.gemini.types import TuningExample
from standins.emulator.running import RunningEmulator


class _StaticToken(google.auth.credentials.Credentials):
    """A bearer token that never expires (the emulator accepts any)."""

    def __init__(self) -> None:
        super().__init__()
        self.token = "emulator-token"

    def refresh(self, request: object) -> None:
        self.token = "emulator-token"

    @property
    def expired(self) -> bool:
        return False

    @property
    def valid(self) -> bool:
        return True


def _gemini(emulator: RunningEmulator) -> genai.Client:
    return genai.Client(
        api_key="test-key", http_options=genai_types.HttpOptions(base_url=emulator.url, api_version="v1beta")
    )


def _vertex(emulator: RunningEmulator) -> genai.Client:
    return genai.Client(
        vertexai=True,
        project="tunebot-test",
        location="us-central1",
        credentials=_StaticToken(),
        http_options=genai_types.HttpOptions(base_url=emulator.url, api_version="v1"),
    )


def test_gemini_base_model_answers_the_same_way_every_time(emulator: RunningEmulator) -> None:
    client = _gemini(emulator)
    first = client.models.generate_content(model="gemini-1.5-flash-001-tuning", contents="55")
    again = client.models.generate_content(model="models/gemini-1.5-flash-001-tuning", contents="55")
    assert first.text and first.text == again.text
    assert "55" in first.text and first.text != "56"
    stats = emulator.emulator.runtime.stats
    assert stats.by_model["models/gemini-1.5-flash-001-tuning"]["models.generateContent"] == 2


def test_gemini_unknown_base_model_is_404(emulator: RunningEmulator) -> None:
    client = _gemini(emulator)
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-9-ultra", contents="hi")
    assert caught.value.code == 404


def test_vertex_publisher_model_answers_on_its_path(emulator: RunningEmulator) -> None:
    client = _vertex(emulator)
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="What comes after 7?")
    assert answer.text and "What comes after 7?" in answer.text
    again = client.models.generate_content(model="gemini-2.5-flash", contents="What comes after 7?")
    assert again.text == answer.text
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nano", contents="hi")
    assert caught.value.code == 404


async def test_a_tuned_model_beats_its_base_model_on_its_own_task(
    emulator: RunningEmulator, gemini_client: GeminiClient
) -> None:
    operation = await gemini_client.create_tuned_model(
        base_model="models/gemini-1.5-flash-001-tuning",
        examples=[TuningExample(e.text_input, e.output) for e in TUTORIAL_EXAMPLES],
        display_name="next number",
        epoch_count=1,
        batch_size=2,
    )
    emulator.advance(3600)
    model = operation.metadata.tuned_model if operation.metadata else None
    assert model
    client = _gemini(emulator)
    for example in TUTORIAL_EXAMPLES[:5]:
        tuned = (await gemini_client.generate_content(model, example.text_input)).text
        base = client.models.generate_content(
            model="gemini-1.5-flash-001-tuning", contents=example.text_input
        )
        assert tuned == example.output
        assert base.text != example.output
