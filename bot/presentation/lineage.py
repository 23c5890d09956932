"""A model's lineage and aliases as one short line (job message, `/tune list`, App Home).
Kept apart from `aliases` so that the progress message can use it without the Slack blocks."""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc
from bot.services.lineage_notes import LineageNote


def lineage_text(parent_name: str | None, checkpoint: str | None) -> str | None:
    """`from support-v1, checkpoint 3` (mrkdwn, escaped), or None for a job from a base model."""
    if not parent_name:
        return None
    shown = f"from {esc(' '.join(parent_name.split()))}"
    return f"{shown}, checkpoint {esc(checkpoint)}" if checkpoint else shown


def model_notes_text(note: LineageNote) -> str | None:
    """`from support-v1, checkpoint 3 · alias `prod``, or None when there is nothing to add."""
    parts = [lineage_text(note.parent_name, note.parent_checkpoint)]
    if note.aliases:
        label = "alias" if len(note.aliases) == 1 else "aliases"
        parts.append(f"{label} " + ", ".join(f"`{esc(a)}`" for a in note.aliases))
    shown = [part for part in parts if part]
    return " · ".join(shown) if shown else None
