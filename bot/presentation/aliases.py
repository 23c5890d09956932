"""What tunebot says about team aliases (`/tune promote`, `/tune aliases`, an alias typed for
a model) and about lineage (a job continued from another model)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.domain.text import escape_mrkdwn as esc
from bot.domain.text import escape_truncated
from bot.presentation.blocks import Block, context, plain, section, when
from bot.presentation.models import model_label, model_named
from bot.services import errors as e
from bot.services.aliases import ALIAS_MAX, AliasInfo, Promoted, PromotePrompt
from bot.services.errors import ModelRef
from bot.services.lineage import CannotContinueFrom, ContinueBaseModelMismatch, ContinueNeedsVertex

ACTION_PROMOTE = "tune_promote_alias"
ACTION_KEEP_ALIAS = "tune_keep_alias"
PROMOTE_USAGE = "`/tune promote <model> as <alias>`"


def promote_usage_text(rest: str, *, model_given: bool) -> str:
    """A `/tune promote` that could not be read: what was typed (echoed safely), then the usage.
    `rest` is the text after `promote` (empty: nothing given)."""
    if not rest.strip():
        return f"Which model, and which alias? Usage: {PROMOTE_USAGE}"
    if model_given:
        return f"Promote `{escape_truncated(rest, 80)}` as what? Usage: {PROMOTE_USAGE}"
    return f"Which model? Usage: {PROMOTE_USAGE}"


MOVES_SHOWN = 5  # of each alias's history in `/tune aliases`
ALIASES_SHOWN = 24  # two blocks each, within Slack's 50 blocks a message
BACKEND_LABELS = {"vertex": "Vertex AI", "gemini": "the Gemini API (legacy)"}


def promote_prompt_blocks(prompt: PromotePrompt) -> tuple[str, list[Block]]:
    """The private confirmation of `/tune promote`: what the alias points to now (replaced)
    and what it will point to, with Promote and Cancel buttons."""
    alias = f"`{esc(prompt.alias)}`"
    target = model_named(prompt.model)
    if prompt.unchanged:
        text = f"{alias} already points to {target}; nothing to change."
        return text, [section(text)]
    if prompt.current is None:
        text = f"Create the alias {alias} for {target}? Everyone in the team can then type {alias} for it."
    else:
        text = (
            f"Move the alias {alias} to {target}? It points to {model_named(prompt.current)} now, "
            f"which it will no longer mean: everyone typing {alias} gets {target} instead."
        )
    value = json.dumps({"a": prompt.alias, "m": prompt.model.model_name}, separators=(",", ":"))
    buttons = [
        {
            "type": "button",
            "action_id": ACTION_PROMOTE,
            "style": "primary",
            "text": plain("Promote"),
            "value": value,
        },
        {"type": "button", "action_id": ACTION_KEEP_ALIAS, "text": plain("Cancel"), "value": prompt.alias},
    ]
    return f"Promote to {esc(prompt.alias)}?", [section(text), {"type": "actions", "elements": buttons}]


def parse_promote_value(value: str) -> tuple[str, str] | None:
    """The Promote button's (alias, model name), or None when the value is not tunebot's."""
    try:
        data = json.loads(value)
        return str(data["a"]), str(data["m"])
    except (ValueError, KeyError, TypeError):
        return None


def promoted_text(promoted: Promoted) -> str:
    alias = f"`{esc(promoted.alias)}`"
    if not promoted.moved:
        return f"{alias} already points to {model_named(promoted.model)}."
    if promoted.previous is None:
        return f":label: {alias} now points to {model_named(promoted.model)}."
    return (
        f":label: {alias} now points to {model_named(promoted.model)} "
        f"(it pointed to {model_named(promoted.previous)})."
    )


def promote_cancelled_text(alias: str) -> str:
    return f"Nothing changed: `{esc(alias[:ALIAS_MAX])}` points where it did."


def alias_meant_text(alias: str, model: ModelRef) -> str:
    """Said privately when a typed alias stood for a model."""
    return f"`{esc(alias)}` is {model_named(model)}."


def aliases_blocks(aliases: Sequence[AliasInfo]) -> tuple[str, list[Block]]:
    """`/tune aliases`: each alias, the model it points to, and its moves (newest first)."""
    if not aliases:
        text = f"The team has no aliases yet. {PROMOTE_USAGE} names a model for everyone."
        return text, [section(text)]
    found: list[Block] = [section(f"*Aliases* ({len(aliases)})")]
    for alias in aliases[:ALIASES_SHOWN]:
        found.append(section(alias_line(alias)))
        lines = [
            _move_line(move.from_model, move.to_model, move.moved_by, when(move.moved_at))
            for move in alias.moves
        ]
        more = len(lines) - MOVES_SHOWN
        shown = lines[:MOVES_SHOWN] + ([f"and {more} earlier"] if more > 0 else [])
        if shown:
            found.append(context("\n".join(shown)))
    if len(aliases) > ALIASES_SHOWN:
        found.append(context(f"and {len(aliases) - ALIASES_SHOWN} more"))
    return f"{len(aliases)} aliases", found


def alias_line(alias: AliasInfo) -> str:
    """`prod` → *support-v2* (`123`), or that its model is gone."""
    line = f"`{esc(alias.name)}` → {model_named(alias.model)}"
    if alias.model_deleted:
        by = f" by <@{alias.deleted_by}>" if alias.deleted_by else ""
        line += f" :warning: its model was deleted{by}; `/tune promote <model> as {esc(alias.name)}` moves it"
    return line


def _move_line(from_model: ModelRef | None, to_model: ModelRef, moved_by: str, at: str) -> str:
    if from_model is None:
        return f"{at}: <@{moved_by}> created it for {model_label(to_model)}"
    return f"{at}: <@{moved_by}> moved it from {model_label(from_model)} to {model_label(to_model)}"


def delete_alias_warning(aliases: Sequence[str]) -> str | None:
    """What the delete confirmation says when aliases point to the model."""
    if not aliases:
        return None
    names = ", ".join(f"`{esc(a)}`" for a in aliases)
    which = "The alias" if len(aliases) == 1 else "The aliases"
    point = "points" if len(aliases) == 1 else "point"
    return (
        f":warning: {which} {names} {point} to this model; after the delete "
        f"{'it names' if len(aliases) == 1 else 'they name'} a deleted model until "
        "someone promotes another (`/tune promote <model> as <alias>`)."
    )


def deleted_aliases_note(aliases: Sequence[str]) -> str | None:
    """Added to a delete's answer: the aliases that now point to a deleted model."""
    if not aliases:
        return None
    names = ", ".join(f"`{esc(a)}`" for a in aliases)
    return f":warning: {names} now {'points' if len(aliases) == 1 else 'point'} to a deleted model."


def lineage_error_text(exc: e.ServiceError) -> str | None:
    """The refusals of aliases and of continuing from a model, or None for another error."""
    match exc:
        case ContinueNeedsVertex(backend=backend):
            service = BACKEND_LABELS.get(backend, esc(backend))
            return (
                f":x: This tunebot tunes with {service}, which cannot continue tuning from a tuned model "
                "(`from=`, `checkpoint=`); only Vertex AI can. Start from a base model instead."
            )
        case CannotContinueFrom(display_name=name, state="tuning", percent=percent):
            how_far = f": {percent:.0f}%" if percent is not None else ""
            return (
                f":hourglass_flowing_sand: *{esc(name)}* is still tuning{how_far}. Continue from it "
                "once it is ready (`/tune status` shows how far it is)."
            )
        case CannotContinueFrom(display_name=name, state="cancelled"):
            return (
                f":x: *{esc(name)}* was cancelled, so it has no final model to continue from; continue "
                "from one of the checkpoints it kept instead (`checkpoint=N`; `/tune try` lists them)."
            )
        case CannotContinueFrom(display_name=name, state=state):
            return f":x: Cannot continue from *{esc(name)}*: its tuning {esc(state)}, so it has no model."
        case ContinueBaseModelMismatch(display_name=name, parent_base_model=base, wanted=wanted):
            return (
                f":x: *{esc(name)}* was tuned from `{esc(base)}`, so a job continued from it is too; "
                f"leave `base_model={esc(wanted)}` out."
            )
        case e.BadAliasName(wanted=wanted, reason=reason, hint=hint):
            return _bad_alias_text(wanted, reason, hint)
        case e.PromoteRefused(model=model, owner_user_id=None):
            return (
                f":no_entry: {model_label(model)} was not created through tunebot, so only a tunebot admin "
                "may give it an alias."
            )
        case e.PromoteRefused(model=model, owner_user_id=owner):
            label = model_label(model)
            return f":no_entry: Only <@{owner}> (who owns {label}) or a tunebot admin may promote it."
        case e.AliasModelGone(alias=alias, model=model, deleted_by=by):
            who = f" by <@{by}>" if by else ""
            return (
                f":x: The alias `{esc(alias)}` points to {model_label(model)}, which was deleted{who}. "
                f"`/tune promote <model> as {esc(alias)}` points it to another model."
            )
    return None


def _bad_alias_text(wanted: str, reason: str, hint: str | None) -> str:
    shown = f"`{esc(wanted[:60])}`"
    rule = (
        f"An alias is a lowercase name of letters, digits, `-`, `_` and `.`, at most {ALIAS_MAX} characters"
    )
    suggestion = f" Use `{esc(hint)}`." if hint else ""
    if reason == "empty":
        return f"Which alias? Usage: {PROMOTE_USAGE}"
    if reason == "too_long":
        return f"{shown} is too long for an alias. {rule}."
    if reason == "uppercase":
        return f"{shown}: aliases are lowercase.{suggestion}"
    if reason == "characters":
        return f"{shown} cannot be an alias. {rule}.{suggestion}"
    if reason == "digits":
        example = f"`v{esc(wanted[:20])}`"
        return f"{shown} cannot be an alias: a number alone is a model's id. Add a letter, e.g. {example}."
    if reason == "model_id":
        return f"{shown} cannot be an alias: it is a model's id. Choose another name."
    return f"{shown} cannot be an alias: a model is called that. Choose another name."
