"""The upload modal's submission: the chosen file becomes a dataset (or a precise refusal)."""

from __future__ import annotations

from bot.listeners.replies import tell_or_dm
from bot.listeners.requests import ViewRequest
from bot.listeners.views.form import private_metadata, view_values
from bot.presentation.blocks import SKIP_BAD_ROWS
from bot.presentation.uploads import CHOOSE_FILE_TEXT
from bot.slack.context import AppContext
from bot.slack.uploads import ingest_slack_file


async def upload_submitted(ctx: AppContext, request: ViewRequest) -> None:
    values = view_values(request.view)
    files = values.get("file") or []
    if not files:
        await request.ack(response_action="errors", errors={"file": CHOOSE_FILE_TEXT})
        return
    await request.ack()
    meta = private_metadata(request.view)
    user_id = request.user_id
    channel_id = meta.get("channel_id") or user_id
    result = await ingest_slack_file(
        ctx,
        files[0],
        team_id=request.team_id,
        user_id=user_id,
        channel_id=channel_id,
        dataset_name=values.get("name"),
        input_column=values.get("input_column"),
        output_column=values.get("output_column"),
        skip_bad_rows=SKIP_BAD_ROWS in (values.get(SKIP_BAD_ROWS) or ()),
    )
    await tell_or_dm(ctx, channel_id, user_id, result)
