"""`/tune promote <model> as <alias>` (a confirmation with Promote and Cancel buttons, handled
in `actions.promote_alias`) and `/tune aliases` (every alias with its history)."""

from __future__ import annotations

import re

from bot.domain.errors import UsageError
from bot.listeners.requests import CommandRequest
from bot.presentation.aliases import aliases_blocks, promote_prompt_blocks, promote_usage_text
from bot.services.aliases import describe_promote, team_aliases
from bot.slack.context import AppContext

_PROMOTE = re.compile(r"^(?P<model>.+?)\s+as\s+(?P<alias>\S+)$", re.IGNORECASE | re.DOTALL)
_QUOTES = "\"'“”‘’`"


def parse_promote(rest: str) -> tuple[str, str]:
    """`support v2 as prod` -> ("support v2", "prod"); a quoted model name keeps its quotes out."""
    found = _PROMOTE.match(rest.strip())
    if not found:
        raise UsageError(promote_usage_text(rest, model_given=True))
    model = found["model"].strip().strip(_QUOTES).strip()
    if not model:
        raise UsageError(promote_usage_text(rest, model_given=False))
    return model, found["alias"]


async def promote_model(ctx: AppContext, request: CommandRequest) -> None:
    model_text, alias = parse_promote(request.rest)
    await request.ack()
    prompt = await describe_promote(
        ctx.store,
        ctx.backend,
        team_id=request.team_id,
        user_id=request.user_id,
        model_text=model_text,
        alias=alias,
        admins=ctx.admins,
    )
    text, body = promote_prompt_blocks(prompt)
    await request.respond(text=text, blocks=body, response_type="ephemeral")


async def show_aliases(ctx: AppContext, request: CommandRequest) -> None:
    await request.ack()
    found = await ctx.store.run(team_aliases, ctx.store, request.team_id)
    text, body = aliases_blocks(found)
    await request.respond(text=text, blocks=body, response_type="ephemeral")
