"""`/tune spend [YYYY-MM] [csv]`: the month's bill (this month by default), privately; with
`csv`, the month's jobs as a CSV in the asker's DM with tunebot, for finance."""

from __future__ import annotations

from bot.domain.errors import UsageError
from bot.domain.policy import PolicyValueError, month_of, parse_month
from bot.listeners.requests import CommandRequest
from bot.presentation.spend import (
    bad_month_text,
    bill_blocks,
    bill_csv,
    bill_csv_file_name,
    bill_csv_sent_text,
    bill_csv_title,
)
from bot.services.spend import Bill
from bot.slack.context import AppContext
from bot.slack.extras import channel_id_of, optional
from bot.slack.spend import viewer_bill
from bot.storage.models import utcnow


async def show_spend(ctx: AppContext, request: CommandRequest) -> None:
    zone = ctx.settings.zone
    month = month_of(utcnow(), zone)
    as_csv = False
    for word in request.rest.split():
        if word.lower() == "csv":
            as_csv = True
            continue
        try:
            month = parse_month(word, zone)
        except PolicyValueError:
            raise UsageError(bad_month_text(word)) from None
    await request.ack()
    bill = await viewer_bill(ctx.client, ctx.store, ctx.settings, request.team_id, request.user_id, month)
    if as_csv:
        sent = await send_bill_csv(ctx, request.user_id, bill)
        await request.respond(text=bill_csv_sent_text(bill.month.label, sent=sent), response_type="ephemeral")
        return
    text, blocks = bill_blocks(bill, zone=ctx.settings.time_zone)
    await request.respond(text=text, blocks=blocks, response_type="ephemeral")


async def send_bill_csv(ctx: AppContext, user_id: str, bill: Bill) -> bool:
    async def share() -> bool:
        opened = await ctx.client.conversations_open(users=user_id)
        await ctx.client.files_upload_v2(
            channel=channel_id_of(opened),
            content=bill_csv(bill),
            filename=bill_csv_file_name(bill.month.label),
            title=bill_csv_title(bill.month.label),
        )
        return True

    return await optional(f"sharing the spend CSV of {bill.month.label} in a DM", share()) is True
