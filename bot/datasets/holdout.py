"""Holding examples out of training for validation: pure functions, no I/O.

A split is deterministic for a given seed (tunebot uses the job's model id), so the
same job always holds out the same examples; the order of the training examples is
kept as uploaded.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.types import TrainingExample

# Vertex AI accepts at most 5,000 validation examples (supervised tuning limits).
MAX_VALIDATION_EXAMPLES = 5000


class HoldoutError(ValueError):
    """The split cannot be made; the message says why, fit for Slack."""


@dataclass(frozen=True)
class Holdout:
    training: list[TrainingExample]
    validation: list[TrainingExample]
    # Training examples dropped because they also appear in a separate validation dataset.
    overlap_removed: int = 0


def split_share(
    examples: Sequence[TrainingExample],
    percent: float,
    *,
    seed: str,
    limit: int = MAX_VALIDATION_EXAMPLES,
) -> Holdout:
    """Hold out `percent` of `examples` (at least one, at most `limit`), chosen at random
    but reproducibly from `seed`; at least one example is left to train on."""
    count = len(examples)
    if count < 2:
        raise HoldoutError(
            f"the dataset has {count} example{'s' if count != 1 else ''}; holding some out for "
            "validation needs at least 2."
        )
    wanted = min(limit, count - 1, max(1, math.ceil(count * percent / 100)))
    chosen = set(random.Random(seed).sample(range(count), wanted))
    return Holdout(
        training=[pair for i, pair in enumerate(examples) if i not in chosen],
        validation=[pair for i, pair in enumerate(examples) if i in chosen],
    )


def separate_set(
    training: Sequence[TrainingExample],
    validation: Sequence[TrainingExample],
    *,
    validation_name: str,
    limit: int = MAX_VALIDATION_EXAMPLES,
) -> Holdout:
    """A separate dataset as the validation set. Examples it shares with the training
    set are not trained on, so the validation loss measures unseen examples."""
    if not validation:
        raise HoldoutError(f"the validation dataset `{validation_name}` has no examples.")
    if len(validation) > limit:
        raise HoldoutError(
            f"the validation dataset `{validation_name}` has {len(validation):,} examples; "
            f"a validation set may have at most {limit:,}."
        )
    held = set(validation)
    kept = [pair for pair in training if pair not in held]
    if not kept:
        raise HoldoutError(
            f"every training example also appears in the validation dataset `{validation_name}`; "
            "nothing would be left to train on."
        )
    return Holdout(training=kept, validation=list(validation), overlap_removed=len(training) - len(kept))
