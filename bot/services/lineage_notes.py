"""What is shown beside a model: the model it continued from, the team's aliases on it, and
the sweep it was a variant of."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.services.sweep_summaries import SweepNote, sweep_notes
from bot.storage.store import Store


@dataclass(frozen=True)
class LineageNote:
    parent_name: str | None = None
    parent_checkpoint: str | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    sweep: SweepNote | None = None


def model_lineage(store: Store, team_id: str) -> dict[str, LineageNote]:
    """Model name -> its lineage, aliases and sweep, for the team's models that have any."""
    aliases: dict[str, list[str]] = {}
    for alias in store.aliases.for_team(team_id):
        aliases.setdefault(alias.model_name, []).append(alias.name)
    jobs = store.jobs.team_models(team_id)
    sweeps = sweep_notes(store, jobs)
    notes: dict[str, LineageNote] = {}
    for job in jobs:
        name = job.model_name
        if not name or name in notes:
            continue
        parent = job.parent_name or (job.parent_model.rsplit("/", 1)[-1] if job.parent_model else None)
        if parent or name in aliases or name in sweeps:
            notes[name] = LineageNote(
                parent, job.parent_checkpoint, tuple(aliases.get(name, ())), sweeps.get(name)
            )
    for name, names in aliases.items():  # aliases on models tunebot did not make
        notes.setdefault(name, LineageNote(aliases=tuple(names)))
    return notes
