"""Try and compare threads as conversations: which earlier turns go with a reply (within a
token budget, oldest left out first) and which system instruction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.datasets.insight import estimate_tokens
from bot.domain.types import Conversation, Turn
from bot.storage.store import Store


@dataclass(frozen=True)
class FittedConversation:
    conversation: Conversation
    left_out: int  # earlier turns not sent (the budget ran out)


def fit_conversation(
    history: Sequence[Turn], prompt: str, system: str | None, budget_tokens: int
) -> FittedConversation:
    """The newest earlier turns that fit in `budget_tokens` with the prompt and the system
    instruction (tokens estimated as bytes / 4); the oldest are left out first. The turns sent
    start with a user turn, as generateContent wants."""
    used = estimate_tokens(prompt) + (estimate_tokens(system) if system else 0)
    kept = 0
    for turn in reversed(history):
        used += estimate_tokens(turn.text)
        if used > budget_tokens:
            break
        kept += 1
    turns = list(history[len(history) - kept :]) if kept else []
    while turns and turns[0].role != "user":
        turns.pop(0)
    return FittedConversation(Conversation(tuple(turns), system or None), len(history) - len(turns))


async def conversation_for(
    store: Store,
    *,
    channel_id: str,
    thread_ts: str,
    model_name: str,
    prompt: str,
    lane: str,
    budget_tokens: int,
) -> FittedConversation:
    """What goes with `prompt` to `lane`'s model of a thread: its earlier turns within the
    budget (TUNEBOT_TRY_CONTEXT_TOKENS) and its system instruction (`system="…"`, else the
    dataset's)."""
    history = await store.run(store.threads.turns, channel_id, thread_ts, lane)
    system = await store.run(store.threads.system_instruction, channel_id, thread_ts)
    if system is None:
        system = dataset_system_instruction(model_name)
    return fit_conversation(history, prompt, system, budget_tokens)


def dataset_system_instruction(model_name: str) -> str | None:
    """The system instruction of the dataset `model_name` was tuned on, sent on every turn of
    its try threads unless `system="…"` overrides it. Datasets keep none yet: None."""
    del model_name
    return None
