"""Team aliases: a name the team gives one of its models (`prod`, `support`), moved from model
to model by `/tune promote <model> as <alias>`, and typed wherever a model is
(`bot.services.models.resolve_model` resolves it). Every move is kept (`/tune aliases`)."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.backends.backend import TuningBackend
from bot.domain.audit import AuditAction
from bot.services.errors import BadAliasName, ModelRef, PromoteRefused
from bot.services.models import _slug, check_try, may_delete, model_ref, resolve_model, short_id
from bot.storage.store import Store

ALIAS_MAX = 40
_ALIAS = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def alias_problem(store: Store, team_id: str, wanted: str) -> BadAliasName | None:
    """Why `wanted` cannot be an alias (a lowercase slug: letters, digits, `-`, `_`, `.`,
    starting with a letter or digit; not digits alone, not a model's id or name), or None."""
    name = wanted.strip()
    if not name:
        return BadAliasName(wanted, "empty")
    if len(name) > ALIAS_MAX:
        return BadAliasName(wanted, "too_long")
    if name != name.lower() and _ALIAS.match(name.lower()):
        return BadAliasName(wanted, "uppercase", name.lower())
    if not _ALIAS.match(name):
        hint = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-._")
        return BadAliasName(wanted, "characters", hint[:ALIAS_MAX] or None)
    if name.isdigit():
        return BadAliasName(wanted, "digits")
    for job in store.jobs.team_models(team_id):
        if job.model_name and name in (job.model_name.lower(), short_id(job.model_name).lower()):
            return BadAliasName(wanted, "model_id")
        if name == job.display_name.lower() or _slug(name) == _slug(job.display_name):
            return BadAliasName(wanted, "model_name")
    return None


def check_alias_name(store: Store, team_id: str, wanted: str) -> str:
    problem = alias_problem(store, team_id, wanted)
    if problem is not None:
        raise problem
    return wanted.strip()


@dataclass(frozen=True)
class PromotePrompt:
    """What `/tune promote` asks to confirm: point `alias` at `model`, replacing `current`
    (None: a new alias); `unchanged` when it already points there."""

    alias: str
    model: ModelRef
    current: ModelRef | None

    @property
    def unchanged(self) -> bool:
        return self.current is not None and self.current.model_name == self.model.model_name


def _check_may_promote(store: Store, model_name: str, user_id: str, admins: Collection[str]) -> None:
    owner = store.ownership.get(model_name)
    if not may_delete(owner, user_id, admins):  # the same rule: the model's owner or an admin
        raise PromoteRefused(model_ref(store, model_name), owner.owner_user_id if owner else None)


def _prompt(
    store: Store, backend: TuningBackend, *, team_id: str, model_text: str, alias: str
) -> PromotePrompt:
    name = check_alias_name(store, team_id, alias)
    model_name = resolve_model(store, backend, team_id=team_id, text=model_text)
    existing = store.aliases.get(team_id, name)
    current = model_ref(store, existing.model_name) if existing is not None else None
    return PromotePrompt(name, model_ref(store, model_name), current)


async def describe_promote(
    store: Store,
    backend: TuningBackend,
    *,
    team_id: str,
    user_id: str,
    model_text: str,
    alias: str,
    admins: Collection[str],
) -> PromotePrompt:
    """Check a `/tune promote` before asking to confirm: a good alias name, a model that
    exists and is ready to answer, owned by the user (or the user is an admin)."""
    prompt = await store.run(_prompt, store, backend, team_id=team_id, model_text=model_text, alias=alias)
    await check_try(store, backend, model_name=prompt.model.model_name)
    await store.run(_check_may_promote, store, prompt.model.model_name, user_id, admins)
    return prompt


@dataclass(frozen=True)
class Promoted:
    """What the confirmation did: `alias` now points to `model`, replacing `previous` (None:
    a new alias); `moved` is False when it already pointed there."""

    alias: str
    model: ModelRef
    previous: ModelRef | None
    moved: bool


def promote(
    store: Store, *, team_id: str, user_id: str, alias: str, model_name: str, admins: Collection[str]
) -> Promoted:
    """Point the alias after the confirmation click: the name and the permission are checked
    again (the button's value comes from the client); the move is recorded and audited."""
    name = check_alias_name(store, team_id, alias)
    _check_may_promote(store, model_name, user_id, admins)
    move = store.aliases.move(team_id, name, model_name=model_name, user_id=user_id)
    model = model_ref(store, model_name)
    if move is None:
        return Promoted(name, model, model, moved=False)
    previous = model_ref(store, move.from_model) if move.from_model else None
    store.audit.append(
        team_id=team_id,
        actor_user_id=user_id,
        action=AuditAction.PROMOTE,
        subject=name,
        details={"from": move.from_model, "to": model_name},
    )
    return Promoted(name, model, previous, moved=True)


@dataclass(frozen=True)
class AliasMoveLine:
    moved_at: datetime
    moved_by: str
    from_model: ModelRef | None
    to_model: ModelRef


@dataclass(frozen=True)
class AliasInfo:
    """One alias as `/tune aliases` and the Home tab show it: the model it points to (and
    whether that was deleted, by whom) and its moves, newest first."""

    name: str
    model: ModelRef
    moved_by: str
    moved_at: datetime
    deleted_by: str | None
    model_deleted: bool
    moves: Sequence[AliasMoveLine]


def team_aliases(store: Store, team_id: str) -> list[AliasInfo]:
    history = store.aliases.history(team_id)
    refs: dict[str, ModelRef] = {}

    def ref(model_name: str) -> ModelRef:
        if model_name not in refs:
            refs[model_name] = model_ref(store, model_name)
        return refs[model_name]

    found = []
    for alias in store.aliases.for_team(team_id):
        owner = store.ownership.get(alias.model_name)
        moves = [
            AliasMoveLine(
                m.moved_at, m.moved_by, ref(m.from_model) if m.from_model else None, ref(m.to_model)
            )
            for m in reversed(history)
            if m.alias == alias.name
        ]
        found.append(
            AliasInfo(
                name=alias.name,
                model=ref(alias.model_name),
                moved_by=alias.moved_by,
                moved_at=alias.moved_at,
                deleted_by=owner.deleted_by if owner is not None else None,
                model_deleted=owner is not None and owner.deleted_at is not None,
                moves=moves,
            )
        )
    return found


def alias_used(store: Store, team_id: str, text: str, model_name: str) -> ModelRef | None:
    """When `text` was an alias that resolved to `model_name`: the model (to tell the user
    privately which model the alias meant); else None."""
    alias = store.aliases.get(team_id, text.strip().lower()) if text.strip() else None
    if alias is None or alias.model_name != model_name:
        return None
    return model_ref(store, model_name)
