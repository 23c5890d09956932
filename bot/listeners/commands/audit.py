"""`/tune audit [YYYY-MM]`: the month's audit log for admins (a private answer) and its CSV
in the admin's DM. The log cannot be changed from Slack: there is no command for it."""

from __future__ import annotations

from bot.domain.errors import UsageError, UserError
from bot.listeners.requests import CommandRequest
from bot.presentation.audit import audit_blocks, audit_month_usage_text, audit_refusal_text
from bot.services.audit import audit_month, may_read_audit, parse_month
from bot.slack.context import AppContext
from bot.slack.uploads import share_audit_csv
from bot.storage.models import utcnow


async def show_audit(ctx: AppContext, request: CommandRequest) -> None:
    if not may_read_audit(request.user_id, ctx.admins):
        raise UserError(audit_refusal_text())
    month = parse_month(request.rest, utcnow())
    if month is None:
        raise UsageError(audit_month_usage_text(request.rest))
    await request.ack()
    found = await ctx.store.run(audit_month, ctx.store, team_id=request.team_id, month=month)
    text, body = audit_blocks(found)
    await request.respond(text=text, blocks=body, response_type="ephemeral")
    if found.entries:
        await share_audit_csv(ctx, user_id=request.user_id, month=found)
