"""The App Home tab: a person's datasets, running jobs and models, and the team's sweeps, other
models and aliases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.text import escape_mrkdwn as esc
from bot.domain.types import ModelState
from bot.presentation.aliases import alias_line, delete_alias_warning
from bot.presentation.blocks import (
    ACTION_DELETE,
    ACTION_TRY,
    MODEL_STATE_LABEL,
    Block,
    context,
    dataset_title,
    plain,
    section,
    state_badge,
    when,
)
from bot.presentation.lineage import model_notes_text
from bot.presentation.sweep_home import sweeps_section
from bot.services.home import HomeData
from bot.services.lineage_notes import LineageNote
from bot.storage.models import TuningJob

HOME_BLOCK_LIMIT = 100  # Slack's limit for a Home tab
SHOWN_PER_SECTION = 10


def home_view(data: HomeData, extra: Sequence[Block] = ()) -> dict[str, Any]:
    """The Home tab's view (pure); `extra` sections (the month's spend) go under the title."""
    blocks: list[Block] = [
        {"type": "header", "text": plain("tunebot")},
        context("Fine-tune Gemini models from Slack. `/tune help` lists the commands."),
        *extra,
        {"type": "divider"},
        section(f"*Your datasets* ({len(data.datasets)})"),
    ]
    if not data.datasets:
        blocks.append(context("None yet: `/tune upload` or mention @tunebot with a file attached."))
    for item in data.datasets[:SHOWN_PER_SECTION]:
        d = item.dataset
        used = ", ".join(esc(n) for n in item.job_names[:3]) if item.job_names else "no jobs yet"
        blocks.append(
            section(
                f"{dataset_title(d.display_name, d.name)} — {d.example_count:,} examples · "
                f"{when(d.created_at)} · used by: {used}"
            )
        )
    blocks += [{"type": "divider"}, section(f"*Your running jobs* ({len(data.running)})")]
    if not data.running:
        blocks.append(context("Nothing tuning. `/tune start <dataset>` starts a job."))
    for job in data.running[:SHOWN_PER_SECTION]:
        steps = f" · step {job.completed_steps} / {job.total_steps}" if job.total_steps else ""
        blocks.append(
            section(f"*{esc(job.display_name)}* — {state_badge(job.state)} {job.percent:.0f}%{steps}")
        )
    aliases: list[Block] = [{"type": "divider"}, section(f"*The team's aliases* ({len(data.aliases)})")]
    if not data.aliases:
        aliases.append(context("None yet: `/tune promote <model> as <alias>` names a model for the team."))
    for alias in data.aliases[:SHOWN_PER_SECTION]:
        moved = f"moved by <@{alias.moved_by}> · {when(alias.moved_at)}"
        aliases += [section(alias_line(alias)), context(moved)]
    # The team's sweeps (at most 7 blocks) and aliases are short; the two model lists (three
    # blocks a model) share what is left of Slack's limit, so nothing after them is cut.
    sweeps = sweeps_section(data.sweeps)
    room = HOME_BLOCK_LIMIT - len(blocks) - len(sweeps) - len(aliases)
    others_need = 3 + 3 * min(len(data.others), SHOWN_PER_SECTION)
    mine = _model_list(
        data, "*Your models*", data.mine, deletable=True, room=room - min(others_need, room // 2)
    )
    others = _model_list(
        data, "*The team's other models*", data.others, deletable=False, room=room - len(mine)
    )
    blocks += sweeps + mine + others + aliases
    return {"type": "home", "blocks": blocks[:HOME_BLOCK_LIMIT]}


def _model_list(
    data: HomeData, title: str, jobs: Sequence[TuningJob], *, deletable: bool, room: int
) -> list[Block]:
    """A titled list of models in at most `room` blocks: those that fit whole (at most
    SHOWN_PER_SECTION), then how many more `/tune list` shows."""
    blocks: list[Block] = [{"type": "divider"}, section(f"{title} ({len(jobs)})")]
    if not jobs:
        return [*blocks, context("No tuned models yet." if deletable else "None yet.")]
    shown = 0
    for job in jobs[:SHOWN_PER_SECTION]:
        one = _model_blocks(job, deletable=deletable, note=data.notes.get(job.model_name or ""))
        if len(blocks) + len(one) + 1 > room:  # one block kept for the "more" line
            break
        blocks += one
        shown += 1
    if shown < len(jobs):
        blocks.append(context(f"…and {len(jobs) - shown:,} more: `/tune list` shows them all."))
    return blocks


def _model_blocks(job: TuningJob, *, deletable: bool, note: LineageNote | None = None) -> list[Block]:
    name = job.model_name or ""
    extra = model_notes_text(note) if note is not None else None
    warning = delete_alias_warning(note.aliases) if note is not None else None
    owner = "" if deletable else f" · by <@{job.owner_user_id}>"
    buttons: list[Block] = [
        {"type": "button", "action_id": ACTION_TRY, "text": plain("Try"), "value": name, "style": "primary"}
    ]
    if deletable:
        buttons.append(
            {
                "type": "button",
                "action_id": ACTION_DELETE,
                "text": plain("Delete"),
                "value": name,
                "style": "danger",
                "confirm": {
                    "title": plain("Delete this model?"),
                    "text": {
                        "type": "mrkdwn",
                        "text": f"*{esc(job.display_name)}* will be deleted for everyone."
                        + (f"\n{warning}" if warning else ""),
                    },
                    "confirm": plain("Delete"),
                    "deny": plain("Cancel"),
                    "style": "danger",
                },
            }
        )
    return [
        section(f"*{esc(job.display_name)}* — {MODEL_STATE_LABEL[ModelState.READY]}{owner}"),
        context(f"`{esc(name)}` · base `{esc(job.base_model)}`" + (f" · {extra}" if extra else "")),
        {"type": "actions", "block_id": f"home_{job.id}", "elements": buttons},
    ]
