"""`/tune upload gs://bucket/object [name]`: a dataset read in place from Cloud Storage.

The URI is checked, and the backend (Vertex AI only), before the ack; the object is read
after it (Slack allows 3 seconds, a large file takes longer), and the outcome reaches the
user privately, worded as a Slack upload's."""

from __future__ import annotations

from bot.domain.errors import UserError
from bot.listeners.replies import tell_or_dm
from bot.listeners.requests import CommandRequest
from bot.presentation.errors import error_text
from bot.presentation.uploads import cloud_upload_started_text, upload_text
from bot.services.cloud import cloud_client, ingest_cloud_object
from bot.services.errors import CloudStorageNeedsVertex
from bot.slack.commands import parse_upload
from bot.slack.context import AppContext
from bot.slack.uploads import share_lengths_chart


async def upload_from_cloud(ctx: AppContext, request: CommandRequest) -> None:
    args = parse_upload(request.rest)
    if cloud_client(ctx.backend) is None:
        raise CloudStorageNeedsVertex(ctx.backend.name)
    await request.ack(text=cloud_upload_started_text(args.target.uri))
    chart_in_dm = False
    try:
        outcome = await ingest_cloud_object(
            ctx.store,
            ctx.backend,
            team_id=request.team_id,
            user_id=request.user_id,
            channel_id=request.channel_id,
            target=args.target,
            dataset_name=args.dataset_name,
            limits=ctx.limits,
        )
    except UserError as exc:
        text = error_text(exc)
    else:
        if outcome.kind == "stored":
            ctx.home_changed(request.team_id)
            insight = outcome.parsed.insight if outcome.parsed is not None else None
            if outcome.dataset is not None and insight is not None:
                chart_in_dm = await share_lengths_chart(
                    ctx, user_id=request.user_id, dataset=outcome.dataset, insight=insight
                )
        text = upload_text(outcome, chart_in_dm=chart_in_dm)
    await tell_or_dm(ctx, request.channel_id, request.user_id, text)
