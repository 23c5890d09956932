"""When the per-job progress message is edited: its change signature.

The progress message (bot/presentation/progress.py) is edited with `chat.update` only
when its signature changes. The signature is computed from the job's fields as the
message shows them (state, whole percent, steps, 1-based epoch, loss to three figures,
the error text of a failed job, and the names and hyperparameters that stay fixed for a
job's life), never from `now` or the rendered text. Elapsed time moves on every poll and
would otherwise force an edit every tick, so the timing line (elapsed time, ETA, total
time) is "as of the last real change": it is recomputed whenever one of those fields
changes and is otherwise left alone.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot.polling.view import JobView
from bot.presentation import details
from bot.presentation.progress import epoch_text, shown_percent, steps_text
from bot.presentation.text import format_loss, format_percent


def progress_signature(view: JobView) -> str:
    """A short hash that changes only when the message's progress facts visibly change.

    Built from fields, rounded the way the message rounds them, so a poll that only
    moves `now` (or moves percent or loss by less than is shown) keeps the signature.
    """
    shown: dict[str, Any] = {
        "state": str(view.state),
        "percent": format_percent(shown_percent(view)),
        "steps": steps_text(view),
        "epoch": epoch_text(view.epoch, view.epoch_count),
        "loss": format_loss(view.mean_loss),
        "error": view.error_message if view.state == "failed" else None,
        "cancelled_by": view.cancelled_by,
        "cost_so_far": view.cost_so_far,
        # Fixed for the life of a job; listed so a correction still reaches the message.
        "job": [
            view.job_id,
            view.display_name,
            view.model_name,
            view.owner_user_id,
            view.base_model,
            view.dataset_name,
            view.epoch_count,
            view.batch_size,
            view.learning_rate,
            view.hyperparameters.to_json() if view.hyperparameters is not None else None,
            view.legacy_multiplier,
        ],
        **details.signature_facts(view),
    }
    payload = json.dumps(shown, sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
