"""Generation settings of try threads (issue #20): the smallest thinking the base model allows
unless a setting says otherwise, `system="…"` as typed (curly quotes too), and the emulator
refusing what generateContent refuses."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.domain.types import GenerationSettings, Turn, generation_config
from bot.listeners.commands.try_model import parse_system
from bot.services.conversation import fit_conversation
from standins.emulator.core.errors import ApiError
from standins.emulator.vertex.endpoints import check_conversation


@pytest.mark.parametrize(
    ("base_model", "thinking"),
    [
        ("gemini-2.5-flash", {"thinkingBudget": 0}),
        ("gemini-2.5-flash-lite", {"thinkingBudget": 0}),
        ("gemini-2.5-pro", {"thinkingBudget": 128}),
        ("gemini-3-pro-preview", {"thinkingLevel": "LOW"}),
        ("gemini-3-flash-preview", {"thinkingLevel": "MINIMAL"}),
    ],
)
def test_tuned_models_think_as_little_as_their_base_model_allows(
    base_model: str, thinking: dict[str, object]
) -> None:
    config = generation_config(GenerationSettings(), base_model)
    assert config == {"thinkingConfig": thinking}
    check_conversation({"contents": [], "generationConfig": config}, base_model)  # Google accepts it


def test_generation_settings_come_from_the_environment() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TUNEBOT_GENERATION_TEMPERATURE="0.2",
        TUNEBOT_GENERATION_MAX_OUTPUT_TOKENS="256",
        TUNEBOT_TUNED_THINKING_BUDGET="1024",
    )
    assert settings.try_context_tokens == 8000
    config = generation_config(settings.generation(), "gemini-2.5-flash")
    assert config == {"temperature": 0.2, "maxOutputTokens": 256, "thinkingConfig": {"thinkingBudget": 1024}}
    assert generation_config(Settings(_env_file=None).generation(), None) == {}  # type: ignore[call-arg]


def test_the_emulator_refuses_what_google_refuses() -> None:
    with pytest.raises(ApiError, match="only works in thinking mode"):
        check_conversation({"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}, "gemini-2.5-pro")
    with pytest.raises(ApiError, match="end with a user role"):
        check_conversation({"contents": [{"role": "user"}, {"role": "model"}]}, "gemini-2.5-flash")
    with pytest.raises(ApiError, match="valid role"):
        check_conversation({"contents": [{"role": "assistant"}]}, "gemini-2.5-flash")


def test_system_is_read_as_typed() -> None:
    assert parse_system('system="Answer in French." hello') == ("Answer in French.", "hello")
    assert parse_system("system=\u201cBe brief.\u201d what is 5") == ("Be brief.", "what is 5")
    assert parse_system("System=terse 5") == ("terse", "5")
    assert parse_system("the system=x is a prompt") == (None, "the system=x is a prompt")


def test_the_budget_keeps_the_newest_turns_starting_with_a_prompt() -> None:
    history = [
        Turn("user", "a" * 40),
        Turn("model", "b" * 40),
        Turn("user", "c" * 40),
        Turn("model", "d" * 40),
    ]
    fitted = fit_conversation(history, "e" * 40, "f" * 40, budget_tokens=45)  # 10 tokens each
    assert fitted.conversation.history == tuple(history[2:]) and fitted.left_out == 2
    assert fitted.conversation.system == "f" * 40
    everything = fit_conversation(history, "e", None, budget_tokens=1000)
    assert everything.left_out == 0 and everything.conversation.system is None
