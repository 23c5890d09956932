"""Turning a file shared in Slack into a stored dataset (or a precise refusal)."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.datasets import ParsedDataset
from bot.datasets.insight import DatasetInsight
from bot.presentation.audit import audit_csv, audit_csv_file_name, audit_csv_title
from bot.presentation.chart import lengths_chart_png
from bot.presentation.downloads import MISSING_FILES_READ_TEXT, describe_size, file_not_described_text
from bot.presentation.limits import skipped_csv, skipped_csv_file_name, skipped_csv_title
from bot.presentation.uploads import (
    fetch_failed_text,
    file_too_big_text,
    lengths_chart_file_name,
    lengths_chart_file_title,
    lengths_chart_title,
    no_download_link_text,
    upload_text,
)
from bot.services.audit import AuditMonth
from bot.services.uploads import ingest_upload
from bot.slack.context import AppContext
from bot.slack.extras import channel_id_of, optional
from bot.slack.files import DownloadError, download_slack_file, file_origins
from bot.storage.models import Dataset

SLACK_FILE_INPUT_LIMIT = 10 * 1024 * 1024  # what Block Kit's file_input element accepts


async def file_details(ctx: AppContext, file: dict[str, Any]) -> dict[str, Any]:
    """Events and view submissions sometimes carry only part of a file object."""
    if file.get("url_private_download") or file.get("url_private"):
        return file
    try:
        info = await ctx.client.files_info(file=file["id"])
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "unknown"
        if error == "missing_scope":
            raise DownloadError(MISSING_FILES_READ_TEXT) from exc
        raise DownloadError(file_not_described_text(str(error))) from exc
    return dict(info["file"])


async def ingest_slack_file(
    ctx: AppContext,
    file: dict[str, Any],
    *,
    team_id: str,
    user_id: str,
    channel_id: str | None,
    dataset_name: str | None = None,
    input_column: str | None = None,
    output_column: str | None = None,
    skip_bad_rows: bool = False,
) -> str:
    """Download (token only to Slack's hosts), validate and store one file (with
    `skip_bad_rows`, its good examples when only rows are bad).

    Returns the reply for the user: what became of the file, or why it could not be fetched.
    """
    name = str(file.get("name") or file.get("title") or "upload")
    try:
        details = await file_details(ctx, file)
        name = str(details.get("name") or name)
        size = details.get("size")
        max_bytes = ctx.limits.max_file_bytes
        if isinstance(size, int) and size > max_bytes:
            return file_too_big_text(name, describe_size(size), describe_size(max_bytes))
        url = str(details.get("url_private_download") or details.get("url_private") or "")
        if not url:
            return no_download_link_text(name)
        spool = await download_slack_file(
            url,
            token=ctx.bot_token,
            allowed_origins=file_origins(ctx.settings.slack_api_url),
            max_bytes=max_bytes,
            client=ctx.http,
            expected_html=str(details.get("filetype", "")).lower() == "html",
        )
    except DownloadError as exc:
        return fetch_failed_text(name, str(exc))
    with spool:
        outcome = await ingest_upload(
            ctx.store,
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            file_name=name,
            content=spool,
            dataset_name=dataset_name,
            input_column=input_column,
            output_column=output_column,
            limits=ctx.limits,
            validation=ctx.validation,
            skip_bad_rows=skip_bad_rows,
        )
    chart_in_dm = csv_in_dm = False
    if outcome.kind == "stored" and outcome.dataset is not None and outcome.parsed is not None:
        insight = outcome.parsed.insight
        if insight is not None:
            chart_in_dm = await share_lengths_chart(
                ctx, user_id=user_id, dataset=outcome.dataset, insight=insight
            )
        if outcome.dataset.skipped_count:
            csv_in_dm = await share_skipped_rows(
                ctx, user_id=user_id, dataset=outcome.dataset, parsed=outcome.parsed
            )
    if outcome.kind == "stored":
        ctx.home_changed(team_id)
    return upload_text(outcome, chart_in_dm=chart_in_dm, csv_in_dm=csv_in_dm)


async def share_lengths_chart(
    ctx: AppContext, *, user_id: str, dataset: Dataset, insight: DatasetInsight
) -> bool:
    """The dataset's input/output length chart, as an image in the user's DM with the bot
    (an ephemeral reply cannot carry a file). An optional extra: False, and one log line,
    when it does not get there, whatever went wrong."""

    async def share() -> bool:
        png = await asyncio.to_thread(lengths_chart_png, insight, lengths_chart_title(dataset.display_name))
        opened = await ctx.client.conversations_open(users=user_id)
        await ctx.client.files_upload_v2(
            channel=channel_id_of(opened),
            content=png,
            filename=lengths_chart_file_name(dataset.id),
            title=lengths_chart_file_title(dataset.display_name),
        )
        return True

    shared = await optional(f"sharing the length chart of dataset {dataset.id} in a DM", share())
    return shared is True


async def share_skipped_rows(
    ctx: AppContext, *, user_id: str, dataset: Dataset, parsed: ParsedDataset
) -> bool:
    """The CSV of the rows an upload skipped (location, field, problem), in the user's DM
    with the bot, as the length chart is: an optional extra (False when it does not get there)."""

    async def share() -> bool:
        opened = await ctx.client.conversations_open(users=user_id)
        await ctx.client.files_upload_v2(
            channel=channel_id_of(opened),
            content=skipped_csv(parsed.problems, parsed.problem_count),
            filename=skipped_csv_file_name(dataset.id),
            title=skipped_csv_title(dataset.display_name),
        )
        return True

    shared = await optional(f"sharing the skipped rows of dataset {dataset.id} in a DM", share())
    return shared is True


async def share_audit_csv(ctx: AppContext, *, user_id: str, month: AuditMonth) -> bool:
    """The month's whole audit log as CSV, in the admin's DM with the bot (as the other CSVs
    go): an optional extra (False, and one log line, when it does not get there)."""

    async def share() -> bool:
        opened = await ctx.client.conversations_open(users=user_id)
        await ctx.client.files_upload_v2(
            channel=channel_id_of(opened),
            content=audit_csv(month.entries),
            filename=audit_csv_file_name(month.month.label),
            title=audit_csv_title(month.month.label),
        )
        return True

    shared = await optional(f"sharing the audit log of {month.month.label} in a DM", share())
    return shared is True
