"""What is shown beside a model: the model it continued from and the team's aliases on it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.storage.store import Store


@dataclass(frozen=True)
class LineageNote:
    parent_name: str | None = None
    parent_checkpoint: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)


def model_lineage(store: Store, team_id: str) -> dict[str, LineageNote]:
    """Model name -> its lineage and aliases, for the team's models that have either."""
    aliases: dict[str, list[str]] = {}
    for alias in store.aliases.for_team(team_id):
        aliases.setdefault(alias.model_name, []).append(alias.name)
    notes: dict[str, LineageNote] = {}
    for job in store.jobs.team_models(team_id):
        name = job.model_name
        if not name or name in notes:
            continue
        parent = job.parent_name or (job.parent_model.rsplit("/", 1)[-1] if job.parent_model else None)
        if parent or name in aliases:
            notes[name] = LineageNote(parent, job.parent_checkpoint, tuple(aliases.get(name, ())))
    for name, names in aliases.items():  # aliases on models tunebot did not make
        notes.setdefault(name, LineageNote(aliases=tuple(names)))
    return notes
