"""App Home's "Sweeps" section: the team's recent sweeps, each with its variants counted by
state, the metric it ranks by, its leader so far and where its leaderboard is."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.text import escape_mrkdwn as esc
from bot.presentation.blocks import Block, section
from bot.presentation.sweep_board import BEST, RANK_NAMES, rank_score_text
from bot.services.sweep_summaries import SweepSummary


def sweep_summary_text(summary: SweepSummary) -> str:
    """`*Sweep #3* on `support` by @ann — 4 variants: 1 running · 3 succeeded`, its ranking, its leader
    and its leaderboard's channel (mrkdwn, escaped)."""
    counts = [
        f"{count} {name}"
        for count, name in (
            (summary.running, "running"),
            (summary.succeeded, "succeeded"),
            (summary.failed, "failed"),
            (summary.cancelled, "cancelled"),
        )
        if count
    ]
    noun = "variant" if summary.variants == 1 else "variants"
    head = (
        f"*Sweep #{summary.sweep_id}* on `{esc(summary.dataset)}` by <@{summary.owner_user_id}> — "
        f"{summary.variants} {noun}"
    )
    head += f": {' · '.join(counts)}" if counts else ""
    ranked = f"Ranked by {RANK_NAMES.get(summary.rank_by, esc(summary.rank_by))}"
    leader = summary.leader
    if leader is not None:
        score = rank_score_text(leader, summary.rank_by)
        lead = f"{BEST} *{esc(leader.label)}* ({esc(leader.display_name)})" + (f", {score}" if score else "")
        lead = ("Best: " if summary.ended else "Leading: ") + lead
    elif summary.ended:
        lead = "Ended; no variant has a score to rank by."
    else:
        lead = "No leader yet."
    where = (
        f"leaderboard in <#{summary.channel_id}>"
        if summary.posted
        else f"leaderboard soon in <#{summary.channel_id}>"
    )
    return f"{head}\n{ranked} · {lead} · {where}"


def sweeps_section(summaries: Sequence[SweepSummary]) -> list[Block]:
    """The section's blocks (a divider, its title, one block per sweep: at most 2 + HOME_SWEEPS);
    none when the team has no sweeps."""
    if not summaries:
        return []
    title = section("*Sweeps* — the team's most recent, running ones first")
    return [{"type": "divider"}, title, *(section(sweep_summary_text(s)) for s in summaries)]
