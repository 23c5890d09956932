"""Try and compare threads as conversations: which earlier turns go with a reply (within a
token budget, oldest left out first) and which system instruction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.datasets.insight import estimate_tokens
from bot.domain.types import Conversation, Turn
from bot.storage.models import Dataset
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


@dataclass(frozen=True)
class SystemChoice:
    """The system instruction a thread sends with every turn, and where it comes from:
    `system="…"` on `/tune try` ("option"), the dataset the model was tuned on ("dataset",
    `dataset_name` set), or none."""

    text: str | None
    source: Literal["option", "dataset", "none"]
    dataset_name: str | None = None


def system_choice(store: Store, model_name: str, override: str | None) -> SystemChoice:
    """`override` (`system="…"`), else the system instruction of the dataset `model_name` was
    tuned on (a model tunebot did not start has none). Call through `store.run`."""
    if override:
        return SystemChoice(override, "option")
    dataset = _dataset_of_model(store, model_name)
    if dataset is None or not dataset.system_instruction:
        return SystemChoice(None, "none")
    return SystemChoice(dataset.system_instruction, "dataset", dataset.display_name)


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
        system = await store.run(dataset_system_instruction, store, model_name)
    return fit_conversation(history, prompt, system, budget_tokens)


def dataset_system_instruction(store: Store, model_name: str) -> str | None:
    """The system instruction of the dataset `model_name` was tuned on (the one most of its
    examples share), sent on every turn of its try threads unless `system="…"` overrides it;
    None for a model tunebot did not start, or a dataset without one. Call through `store.run`."""
    dataset = _dataset_of_model(store, model_name)
    return dataset.system_instruction if dataset is not None else None


def _dataset_of_model(store: Store, model_name: str) -> Dataset | None:
    """The dataset of the newest job that made `model_name` (found as `/tune try` finds the
    job: by its model name, which on Vertex is also the job's operation name)."""
    job = store.jobs.for_model(model_name)
    if job is None or job.dataset_id is None:
        return None
    return store.datasets.by_id(job.team_id, job.dataset_id)
