"""A model's lineage, aliases and sweep as one short line (job message, `/tune list`, App Home).
Kept apart from `aliases` so that the progress message can use it without the Slack blocks."""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc
from bot.services.lineage_notes import LineageNote
from bot.services.sweep_summaries import SweepNote


def lineage_text(parent_name: str | None, checkpoint: str | None) -> str | None:
    """`from support-v1, checkpoint 3` (mrkdwn, escaped), or None for a job from a base model."""
    if not parent_name:
        return None
    shown = f"from {esc(' '.join(parent_name.split()))}"
    return f"{shown}, checkpoint {esc(checkpoint)}" if checkpoint else shown


def sweep_note_text(note: SweepNote) -> str:
    """`variant 2 of 4 in sweep #3 (epochs=2, learning_rate_multiplier=0.5)` (mrkdwn, escaped)."""
    settings = ", ".join(f"{esc(key)}={esc(value)}" for key, value in note.settings)
    shown = f"variant {note.number} of {note.of} in sweep #{note.sweep_id}"
    return f"{shown} ({settings})" if settings else shown


def model_notes_text(note: LineageNote) -> str | None:
    """`from support-v1, checkpoint 3 · alias `prod` · variant 2 of 4 in sweep #3 (…)`, or None
    when there is nothing to add."""
    parts = [lineage_text(note.parent_name, note.parent_checkpoint)]
    if note.aliases:
        label = "alias" if len(note.aliases) == 1 else "aliases"
        parts.append(f"{label} " + ", ".join(f"`{esc(a)}`" for a in note.aliases))
    if note.sweep is not None:
        parts.append(sweep_note_text(note.sweep))
    shown = [part for part in parts if part]
    return " · ".join(shown) if shown else None
