"""`/tune status [job]`: your latest jobs, or one of them, answered in the ack."""

from __future__ import annotations

from bot.domain.errors import UserError
from bot.listeners.requests import CommandRequest
from bot.presentation import blocks
from bot.presentation.jobs import no_such_job_text
from bot.slack.context import AppContext


async def show_status(ctx: AppContext, request: CommandRequest) -> None:
    jobs = await ctx.store.run(ctx.store.jobs.for_owner, request.team_id, request.user_id)
    if request.rest:
        wanted = request.rest.strip().lstrip("#").lower()
        jobs = [
            j
            for j in jobs
            if str(j.id) == wanted
            or j.display_name.lower() == wanted
            or (j.model_name or "").lower().endswith(wanted)
        ]
        if not jobs:
            raise UserError(no_such_job_text(request.rest))
    text, body = blocks.status_blocks(jobs)
    await request.ack(text=text, blocks=body)
