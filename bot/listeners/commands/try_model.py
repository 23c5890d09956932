"""`/tune try <model> [checkpoint=N] <prompt>`: a thread where the model answers."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from functools import partial
from typing import Protocol

from slack_sdk.errors import SlackApiError

from bot.domain.errors import UsageError
from bot.listeners.replies import channel_refusal
from bot.listeners.requests import CommandRequest
from bot.presentation.aliases import alias_meant_text
from bot.presentation.commands import TRY_USAGE, bad_checkpoint_text, no_prompt_text
from bot.services.aliases import alias_used
from bot.services.models import check_try, resolve_model
from bot.slack.channels import ensure_member
from bot.slack.commands import split_first
from bot.slack.context import AppContext
from bot.slack.conversation import open_try_thread, split_checkpoint, with_checkpoint


class ThreadOpener(Protocol):
    def __call__(
        self, ctx: AppContext, *, channel_id: str, user_id: str, model_name: str, prompt: str
    ) -> Awaitable[str]: ...


async def try_model(ctx: AppContext, request: CommandRequest) -> None:
    model_text, prompt = split_first(request.rest, "model", TRY_USAGE)
    system, prompt = parse_system(prompt)
    checkpoint, prompt = parse_checkpoint(prompt)
    if system is None:
        system, prompt = parse_system(prompt)
    await open_model_thread(
        ctx,
        request,
        model_text=model_text,
        prompt=prompt,
        checkpoint=checkpoint,
        usage=TRY_USAGE,
        opener=partial(open_try_thread, system=system),
    )


async def open_model_thread(
    ctx: AppContext,
    request: CommandRequest,
    *,
    model_text: str,
    prompt: str,
    checkpoint: str | None,
    usage: str,
    opener: ThreadOpener,
) -> None:
    """`/tune try` and `/tune compare`: a prompt that opens a thread."""
    if not prompt:
        raise UsageError(no_prompt_text(model_text, usage))
    resolved = await ctx.store.run(
        resolve_model, ctx.store, ctx.backend, team_id=request.team_id, text=model_text
    )
    model_name = with_checkpoint(resolved, checkpoint)
    meant = await ctx.store.run(alias_used, ctx.store, request.team_id, model_text, resolved)
    await request.ack()
    name, checkpoint = split_checkpoint(model_name)
    await check_try(ctx.store, ctx.backend, model_name=name, checkpoint=checkpoint)
    await ensure_member(ctx, request.channel_id)
    try:
        await opener(
            ctx,
            channel_id=request.channel_id,
            user_id=request.user_id,
            model_name=model_name,
            prompt=prompt,
        )
    except SlackApiError as exc:
        await request.respond(text=channel_refusal(exc, request.channel_id), response_type="ephemeral")
        return
    if meant is not None:  # privately: which model the alias stood for
        await request.respond(text=alias_meant_text(model_text, meant), response_type="ephemeral")


SYSTEM_OPTION = re.compile(r"""^system=(?:"([^"]*)"|'([^']*)'|(\S+))(?:\s+|$)""", re.IGNORECASE)


def parse_system(prompt: str) -> tuple[str | None, str]:
    """`system="Answer in French." hello` -> ("Answer in French.", "hello"); none -> (None, prompt)."""
    text = prompt.replace("\u201c", '"').replace("\u201d", '"').replace("\u2018", "'").replace("\u2019", "'")
    found = SYSTEM_OPTION.match(text)
    if not found:
        return None, prompt
    value = next((g for g in found.groups() if g is not None), "").strip()
    return value or None, text[found.end() :].strip()


def parse_checkpoint(prompt: str) -> tuple[str | None, str]:
    """`checkpoint=2 what is 5` -> ("2", "what is 5"); no `checkpoint=` -> (None, prompt)."""
    head, _, rest = prompt.partition(" ")
    key, sep, value = head.partition("=")
    if not sep or key.lower() not in ("checkpoint", "ckpt"):
        return None, prompt
    if not value.isdigit():
        raise UsageError(bad_checkpoint_text(value))
    return value, rest.strip()
