"""A whole flow with DEBUG logging: no secret in any log line or Slack message."""

from __future__ import annotations

import io
from pathlib import Path

from bot.datasets.samples import tutorial_csv
from bot.logs import configure_logging
from standins.emulator.running import FrozenClock
from standins.offline import OFFLINE_API_KEY, OFFLINE_SIGNING_SECRET, OfflineConfig, OfflineStack
from tests.helpers.slack import (
    CHANNEL,
    OWNER,
    all_text,
    bot_posts,
    buttons,
    eventually,
    upload_file,
    wait_for,
)


async def test_a_full_flow_logs_and_posts_no_secret(tmp_path: Path, debug_log: io.StringIO) -> None:
    config = OfflineConfig(database_url=f"sqlite:///{tmp_path / 'tunebot.db'}", emulator_clock=FrozenClock())
    stack = OfflineStack(config)
    configure_logging("DEBUG", stack.settings.secrets(), stream=debug_log)
    secrets = stack.settings.secrets()
    assert {stack.slack.bot_token, OFFLINE_SIGNING_SECRET, OFFLINE_API_KEY} <= set(secrets)
    with stack:
        assert stack.sender is not None and stack.emulator is not None
        stack.workspace.add_user(OWNER, "olivia")
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        await stack.sender.slash_command(OWNER, "start tutorial")
        store = stack.runtime.ctx.store if stack.runtime else None
        assert store is not None
        job = await eventually(
            lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
        )
        stack.emulator.advance(60)
        await stack.poll(all_due=True)
        await stack.sender.slash_command(OWNER, f"try {job.model_name} 7")
        await wait_for(
            stack, lambda: any(m.text == "8" for m in stack.workspace.messages(CHANNEL, include_replies=True))
        )
        await stack.sender.slash_command(OWNER, f"delete {job.model_name}")
        prompt = await wait_for(
            stack, lambda: next((e for e in stack.workspace.ephemerals(user=OWNER) if buttons(e)), None)
        )
        [delete] = buttons(prompt)
        await stack.sender.block_action(
            OWNER,
            delete["action_id"],
            delete["value"],
            CHANNEL,
            message_ts=prompt.message_ts,
            is_ephemeral=True,
        )
        await wait_for(stack, lambda: "Deleted" in prompt.text)
        shown = [all_text(m) for m in stack.workspace.messages(CHANNEL, include_replies=True)]
        shown += [all_text(e) for e in stack.workspace.ephemerals()]
    log = debug_log.getvalue()
    # DEBUG was on for the libraries that handle the secrets: Slack's client, Bolt, the Gemini client.
    for logger in ("slack_sdk.web.async_base_client", "bot.slack.bolt", "bot.gemini"):
        assert f"DEBUG   {logger}" in log
    assert len(bot_posts(stack)) >= 2
    for secret in secrets:
        assert secret not in log
        assert all(secret not in text for text in shown)
