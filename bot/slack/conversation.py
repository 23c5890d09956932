"""`/tune try`: a prompt opens a thread; every reply in it is answered by the same model."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.domain.errors import BackendError
from bot.presentation.blocks import (
    checkpoint_name,
    model_context,
    section,
    thinking_text,
    try_prompt_text,
    try_started_text,
)
from bot.presentation.models import answer_message, failure_message, left_out_note
from bot.services.conversation import FittedConversation, conversation_for, system_choice
from bot.services.models import model_display_name, short_id
from bot.slack.context import AppContext

log = logging.getLogger(__name__)

CHECKPOINT_MARK = "#checkpoint="  # a try thread on one checkpoint remembers "<model>#checkpoint=N"


def with_checkpoint(model_name: str, checkpoint: str | None) -> str:
    return f"{model_name}{CHECKPOINT_MARK}{checkpoint}" if checkpoint else model_name


def split_checkpoint(target: str) -> tuple[str, str | None]:
    """ "<model>#checkpoint=N" -> (model, "N"); a plain model name -> (model, None)."""
    name, mark, checkpoint = target.partition(CHECKPOINT_MARK)
    return name, (checkpoint or None) if mark else None


async def display_name(ctx: AppContext, model_name: str) -> str:
    """The name people know a model by (tunebot's display name, else its id), without the
    checkpoint a try thread may remember with it."""
    name, _ = split_checkpoint(model_name)
    return await ctx.store.run(model_display_name, ctx.store, name) or short_id(name)


async def display_label(ctx: AppContext, model_name: str) -> str:
    """`display_name`, and which checkpoint when a thread tries one: `support bot (checkpoint 1)`."""
    return checkpoint_name(await display_name(ctx, model_name), split_checkpoint(model_name)[1])


async def open_try_thread(
    ctx: AppContext,
    *,
    channel_id: str,
    user_id: str,
    model_name: str,
    prompt: str,
    system: str | None = None,
) -> str:
    """Post the prompt in the channel, remember the thread, answer in it. Returns the thread ts."""
    name, checkpoint = split_checkpoint(model_name)
    choice = await ctx.store.run(system_choice, ctx.store, name, system)
    text = try_prompt_text(user_id, await display_name(ctx, model_name), prompt, checkpoint, choice)
    channel_id, thread_ts = await _post_try_thread(ctx, channel_id, user_id, model_name, text, system)
    await answer_in_thread(
        ctx, channel_id=channel_id, thread_ts=thread_ts, model_name=model_name, prompt=prompt
    )
    return thread_ts


async def start_try_thread(ctx: AppContext, *, channel_id: str, user_id: str, model_name: str) -> str:
    """The "Try it" button: a thread waiting for the user's first prompt."""
    choice = await ctx.store.run(system_choice, ctx.store, split_checkpoint(model_name)[0], None)
    text = try_started_text(user_id, await display_name(ctx, model_name), choice)
    _, thread_ts = await _post_try_thread(ctx, channel_id, user_id, model_name, text)
    return thread_ts


async def _post_try_thread(
    ctx: AppContext, channel_id: str, user_id: str, model_name: str, text: str, system: str | None = None
) -> tuple[str, str]:
    """Post a try thread's opening message and remember the thread: (channel, thread ts)."""
    posted = await ctx.client.chat_postMessage(
        channel=channel_id, text=text, blocks=[section(text), model_context(*split_checkpoint(model_name))]
    )
    thread_ts = str(posted["ts"])
    channel_id = str(posted.get("channel") or channel_id)  # a user id opens their DM with the bot
    await ctx.store.run(
        ctx.store.threads.add,
        channel_id=channel_id,
        thread_ts=thread_ts,
        model_name=model_name,
        user_id=user_id,
        system_instruction=system,
    )
    return channel_id, thread_ts


TUNED_LANE, BASE_LANE = "tuned", "base"  # which model of a thread answered (see ThreadTurn)


async def thread_conversation(
    ctx: AppContext, channel_id: str, thread_ts: str, model_name: str, prompt: str, lane: str
) -> FittedConversation:
    """What goes with `prompt` to `lane`'s model (see `bot.services.conversation.conversation_for`)."""
    return await conversation_for(
        ctx.store,
        channel_id=channel_id,
        thread_ts=thread_ts,
        model_name=split_checkpoint(model_name)[0],
        prompt=prompt,
        lane=lane,
        budget_tokens=ctx.settings.try_context_tokens,
    )


async def answer_in_thread(
    ctx: AppContext, *, channel_id: str, thread_ts: str, model_name: str, prompt: str
) -> None:
    """A visible "is thinking…" placeholder, edited in place into the answer (or the error)."""
    placeholder = await ctx.client.chat_postMessage(
        channel=channel_id, thread_ts=thread_ts, text=thinking_text(await display_label(ctx, model_name))
    )
    fitted = await thread_conversation(ctx, channel_id, thread_ts, model_name, prompt, TUNED_LANE)
    try:
        name, checkpoint = split_checkpoint(model_name)
        answer = await ctx.backend.generate(
            name, prompt, checkpoint=checkpoint, conversation=fitted.conversation
        )
        text = answer_message(answer) + left_out_note(fitted.left_out)
        await ctx.store.run(
            ctx.store.threads.add_exchange, channel_id, thread_ts, prompt, {TUNED_LANE: answer}
        )
    except BackendError as exc:
        log.info("generateContent on %s failed: %s", model_name, exc)
        text = failure_message(await display_label(ctx, model_name), exc)
    try:
        await ctx.client.chat_update(channel=channel_id, ts=placeholder["ts"], text=text)
    except SlackApiError:
        log.exception("could not edit the answer into the thread; posting it instead")
        await ctx.client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=text)
