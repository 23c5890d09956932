"""A prompt as long as a model takes (#21 A4): `/tune try` and `/tune compare` echo it
shortened (Slack refuses a message text over 40,000 characters with `msg_too_long`, and a
section over 3,000), and the model gets all of it. Also the fake Slack's text limit itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from bot.presentation.blocks import try_prompt_text
from bot.presentation.evaluation import compare_prompt_text
from bot.services.errors import ModelRef
from standins.fakeslack import FakeSlack
from standins.fakeslack.limits import MAX_TEXT
from standins.offline import OfflineStack
from tests.helpers.emulator import outside_models
from tests.helpers.slack import CHANNEL, OTHER, OWNER, all_text, bot_posts, wait_for

# 40,000 characters, the most a tuned model accepts: text that must be escaped, ending in a
# marker the echo cannot show.
HEAD = "<!channel> what comes after 5 & 6? "
PROMPT = (HEAD + "7 8 9 " * 7_000)[: MAX_TEXT - 4] + " END"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack()
    fake.workspace.add_user(OWNER, "olivia")
    with fake.serve():
        yield fake


def call(fake: FakeSlack, method: str, **params: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {fake.workspace.bot_token}"}
    answer: dict[str, object] = httpx.post(fake.api_url + method, data=params, headers=headers).json()
    return answer


def test_the_fake_slack_refuses_a_message_text_over_40000_characters(fake_slack: FakeSlack) -> None:
    ws = fake_slack.workspace
    longest, too_long = "x" * MAX_TEXT, "x" * (MAX_TEXT + 1)
    posted = call(fake_slack, "chat.postMessage", channel=CHANNEL, text=longest)
    assert posted["ok"] is True
    for method, params in (
        ("chat.postMessage", {"channel": CHANNEL}),
        ("chat.update", {"channel": CHANNEL, "ts": str(posted["ts"])}),
        ("chat.postEphemeral", {"channel": CHANNEL, "user": OWNER}),
    ):
        assert call(fake_slack, method, text=too_long, **params) == {"ok": False, "error": "msg_too_long"}
    assert ws.ephemerals() == []
    # response_url posts: a new ephemeral, and an ephemeral replaced in place
    url = ws.new_response_url(CHANNEL, OWNER)
    refused = httpx.post(url, json={"text": too_long})
    assert refused.json() == {"ok": False, "error": "msg_too_long"}
    assert httpx.post(url, json={"text": "short"}).json() == {"ok": True}
    [shown] = ws.ephemerals()
    replace = ws.new_response_url(CHANNEL, OWNER, message_ts=shown.message_ts, is_ephemeral=True)
    refused = httpx.post(replace, json={"text": too_long, "replace_original": True})
    assert refused.json() == {"ok": False, "error": "msg_too_long"}
    assert [e.text for e in ws.ephemerals()] == ["short"]


class PromptSpy:
    """Records the prompts the bot hands to the tuning backend."""

    def __init__(self, stack: OfflineStack, monkeypatch: pytest.MonkeyPatch) -> None:
        assert stack.runtime is not None
        backend = stack.runtime.ctx.backend
        self.prompts: list[str] = []
        for method in ("generate", "generate_base"):
            monkeypatch.setattr(backend, method, self._spy(getattr(backend, method)))

    def _spy(self, original: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
        async def spy(model: str, prompt: str, *args: Any, **kwargs: Any) -> str:
            self.prompts.append(prompt)
            return await original(model, prompt, *args, **kwargs)

        return spy


def assert_shortened_echo(text: str) -> None:
    assert len(text) <= 4_000, len(text)
    assert "&lt;!channel&gt; what comes after 5 &amp; 6?" in text and "<!channel>" not in text
    assert "…" in text and "END" not in text
    assert "40,000 characters" in text


async def ready_model(stack: OfflineStack) -> str:
    [model] = await outside_models(stack, 1)
    return model


async def test_try_with_a_40000_character_prompt_echoes_it_shortened_and_the_model_gets_all_of_it(
    stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.sender is not None
    model = await ready_model(stack)
    spy = PromptSpy(stack, monkeypatch)
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"try {model} {PROMPT}")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    assert f"<@{OTHER}> asked" in prompt.text
    assert_shortened_echo(prompt.text)
    assert_shortened_echo(all_text({"blocks": prompt.blocks}))

    def answers() -> list[str]:
        return [m.text for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert spy.prompts == [PROMPT]


async def test_compare_with_a_40000_character_prompt_echoes_it_shortened_and_both_models_get_all_of_it(
    stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert stack.sender is not None
    model = await ready_model(stack)
    spy = PromptSpy(stack, monkeypatch)
    before = len(bot_posts(stack))
    await stack.sender.slash_command(OTHER, f"compare {model} {PROMPT}")
    prompt = await wait_for(
        stack, lambda: bot_posts(stack)[before] if len(bot_posts(stack)) > before else None
    )
    assert f"<@{OTHER}> is comparing" in prompt.text
    assert_shortened_echo(all_text(prompt))

    def answers() -> list[str]:
        return [all_text(m) for m in stack.workspace.thread(CHANNEL, prompt.ts) if m.is_bot and m.is_reply]

    await wait_for(stack, lambda: answers() and "thinking" not in answers()[-1])
    assert "*Base*" in answers()[-1] and "*Tuned*" in answers()[-1]
    assert spy.prompts == [PROMPT, PROMPT]


def test_a_short_prompt_is_echoed_whole() -> None:
    compared = compare_prompt_text(OWNER, ModelRef("m"), "b", "5 & 6")
    for text in (try_prompt_text(OWNER, "numbers", "5 & 6"), compared):
        assert ">5 &amp; 6" in text and "…" not in text and "characters" not in text
