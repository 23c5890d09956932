"""Pages of a list: `/tune list` and `/tune datasets`, and their Next/Previous buttons."""

from __future__ import annotations

from typing import Any

from bot.domain.types import ModelSummary
from bot.presentation import blocks
from bot.presentation.lineage import model_notes_text
from bot.services.lineage_notes import LineageNote, model_lineage
from bot.slack.context import AppContext
from bot.storage.store import Store

LIST_PAGE_SIZE = 10
LIST_FETCH_SIZE = 100
LIST_MAX_FETCHES = 20  # at most 2,000 models are counted and paged


async def datasets_page(
    ctx: AppContext, team_id: str, user_id: str, *, page_number: int
) -> tuple[str, list[Any]]:
    datasets = await ctx.store.run(ctx.store.datasets.list_for_owner, team_id, user_id)
    return blocks.datasets_blocks(datasets, page_number=page_number)


async def all_models(ctx: AppContext) -> list[ModelSummary]:
    """Every model the service lists (up to LIST_MAX_FETCHES pages), less those deleted
    through tunebot (Vertex AI keeps listing the tuning job of a deleted model)."""
    models: list[ModelSummary] = []
    token: str | None = None
    for _ in range(LIST_MAX_FETCHES):
        page = await ctx.backend.list_models(page_size=LIST_FETCH_SIZE, page_token=token)
        models.extend(page.models)
        token = page.next_page_token
        if not token:
            break
    gone = await ctx.store.run(ctx.store.ownership.deleted, [m.name for m in models])
    return [m for m in models if m.name not in gone]


def model_notes(store: Store, team_id: str) -> dict[str, str]:
    """Model name -> what `/tune list` adds under it: its lineage and the aliases on it."""
    notes: dict[str, LineageNote] = model_lineage(store, team_id)
    return {name: text for name, note in notes.items() if (text := model_notes_text(note))}


async def models_page(
    ctx: AppContext, team_id: str, user_id: str, *, scope: str, page_number: int
) -> tuple[str, list[dict[str, Any]]]:
    models = await all_models(ctx)
    owners = await ctx.store.run(ctx.store.ownership.owners_of, [m.name for m in models])
    mine = [m for m in models if owners.get(m.name) == user_id]
    shown = mine if scope == "mine" else models
    notes = await ctx.store.run(model_notes, ctx.store, team_id)
    return blocks.models_page_blocks(
        shown,
        owners,
        scope=scope,
        page_number=page_number,
        page_size=LIST_PAGE_SIZE,
        total=len(models),
        yours=len(mine),
        notes=notes,
    )
