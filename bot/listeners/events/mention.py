"""`app_mention`: files shared with a mention become datasets; a mention alone gets help."""

from __future__ import annotations

from bot.listeners.events.delivery import first_delivery
from bot.listeners.replies import tell
from bot.listeners.requests import EventRequest
from bot.presentation.blocks import mention_help_text
from bot.presentation.uploads import too_many_files_text
from bot.slack.context import AppContext
from bot.slack.uploads import ingest_slack_file

MAX_FILES_PER_MESSAGE = 5


async def mentioned(ctx: AppContext, request: EventRequest) -> None:
    event = request.event
    channel_id = event["channel"]
    thread_ts = event.get("thread_ts")
    if thread_ts and await ctx.store.run(ctx.store.threads.model_for, channel_id, thread_ts):
        return  # the `message` event for the same post answers it
    if not await first_delivery(ctx, request):
        return
    user_id = event.get("user", "")
    files = event.get("files") or []
    if not files:
        await tell(ctx, channel_id, user_id, mention_help_text())
        return
    skip = asks_to_skip_bad_rows(str(event.get("text") or ""))
    for file in files[:MAX_FILES_PER_MESSAGE]:
        result = await ingest_slack_file(
            ctx, file, team_id=request.team_id, user_id=user_id, channel_id=channel_id, skip_bad_rows=skip
        )
        await tell(ctx, channel_id, user_id, result)
    if len(files) > MAX_FILES_PER_MESSAGE:
        await tell(ctx, channel_id, user_id, too_many_files_text(MAX_FILES_PER_MESSAGE))


def asks_to_skip_bad_rows(text: str) -> bool:
    """ "@tunebot skip bad rows" (or `skip_bad_rows`, `skip-bad-rows`) with the files."""
    words = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    return "skip bad rows" in words
