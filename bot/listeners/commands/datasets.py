"""`/tune datasets`: a page of your datasets; `/tune datasets <name>`: what is in one."""

from __future__ import annotations

from bot.datasets.insight import DatasetInsight
from bot.listeners.pages import datasets_page
from bot.listeners.requests import CommandRequest
from bot.presentation.datasets import (
    CHART_FOLLOWS_NOTE,
    dataset_detail_text,
    looking_at_text,
)
from bot.services.datasets import dataset_insight, find_dataset
from bot.slack.context import AppContext
from bot.slack.uploads import share_lengths_chart


async def show_datasets(ctx: AppContext, request: CommandRequest) -> None:
    if request.rest:
        await show_dataset(ctx, request)
        return
    # A quick database read: answered in the ack itself, one round trip.
    text, body = await datasets_page(ctx, request.team_id, request.user_id, page_number=1)
    await request.ack(text=text, blocks=body)


async def show_dataset(ctx: AppContext, request: CommandRequest) -> None:
    dataset = await ctx.store.run(find_dataset, ctx.store, request.team_id, request.rest)
    assert dataset.id is not None
    insight = DatasetInsight.from_json(await ctx.store.run(ctx.store.datasets.insight, dataset.id))
    if insight is not None:  # stored at upload: answered in the ack itself
        await request.ack(text=dataset_detail_text(dataset, insight) + CHART_FOLLOWS_NOTE)
    else:  # uploaded before tunebot kept it: gathered once from the stored examples
        await request.ack(text=looking_at_text(dataset.display_name))
        insight = await ctx.store.run(dataset_insight, ctx.store, dataset)
        await request.respond(
            text=dataset_detail_text(dataset, insight) + CHART_FOLLOWS_NOTE, response_type="ephemeral"
        )
    await share_lengths_chart(ctx, user_id=request.user_id, dataset=dataset, insight=insight)
