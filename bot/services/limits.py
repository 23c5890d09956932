"""The dataset limits `/tune start` checks before anything is created: what the backend takes
(system instructions and multi-turn examples), the base model's tokens per example and the
size of the validation set (bot.datasets.limits holds the numbers)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bot.backends.backend import TuningBackend
from bot.datasets.core import Limits
from bot.domain.requests import ValidationChoice
from bot.services.errors import ServiceError
from bot.storage.models import Dataset

# What `validation=N%` may ask for (bot.slack.commands parses it within these bounds).
MIN_SUGGESTED_PERCENT = 1.0
MAX_SUGGESTED_PERCENT = 50.0


@dataclass(eq=False)
class ConversationsNotTaken(ServiceError):
    """`backend` (its name) tunes on input/output pairs only, and `dataset` holds
    `multi_turn_count` multi-turn examples and `system_count` with a system instruction."""

    backend: str
    dataset: str
    multi_turn_count: int
    system_count: int


@dataclass(eq=False)
class ExampleTooLong(ServiceError):
    """The largest example of `dataset` (`tokens`, estimated) is over `base_model`'s `limit`."""

    dataset: str
    base_model: str
    tokens: int
    limit: int


@dataclass(eq=False)
class ValidationTooLarge(ServiceError):
    """A validation set of `validation_count` examples beside `training_count` training ones
    is more than the backend takes: at most `max_examples`, and, above `fraction_above`
    examples, at most `max_fraction` of the training examples. `largest` is the most the
    backend would take beside this training set; `percent` the largest share of the dataset
    that fits (None when no share of 1 % or more does)."""

    backend: str
    source: Literal["split", "dataset"]
    validation_count: int
    training_count: int
    max_examples: int | None
    max_fraction: float | None
    fraction_above: int
    largest: int
    asked_percent: float | None = None
    validation_name: str | None = None
    percent: float | None = None


def check_dataset_shape(backend: TuningBackend, limits: Limits, dataset: Dataset, base_model: str) -> None:
    """Refuse a dataset the backend or the base model cannot tune on."""
    if not limits.conversations and dataset.conversational:
        raise ConversationsNotTaken(
            backend.name, dataset.display_name, dataset.multi_turn_count, dataset.system_count
        )
    check_example_tokens(backend, limits, dataset, base_model)


def check_example_tokens(backend: TuningBackend, limits: Limits, dataset: Dataset, base_model: str) -> None:
    """Refuse a dataset (to train or validate on) with an example over the base model's tokens."""
    limit = _token_limit(backend.max_example_tokens(base_model), limits.max_example_tokens)
    tokens = dataset.max_example_tokens
    if limit is not None and tokens is not None and tokens > limit:
        raise ExampleTooLong(dataset.display_name, base_model, tokens, limit)


def _token_limit(model: int | None, configured: int | None) -> int | None:
    known = [value for value in (model, configured) if value is not None]
    return min(known) if known else None


def validation_allowed(limits: Limits, validation: int, training: int) -> bool:
    """Whether the backend takes `validation` examples beside `training` ones."""
    if limits.max_validation_examples is not None and validation > limits.max_validation_examples:
        return False
    if limits.max_validation_fraction is None or validation <= limits.validation_fraction_above:
        return True
    return validation <= limits.max_validation_fraction * training


def split_count(example_count: int, percent: float) -> int:
    """How many examples `validation=percent%` holds out (as bot.datasets.holdout.split_share
    does, before its own cap)."""
    return min(example_count - 1, max(1, math.ceil(example_count * percent / 100)))


def largest_split(limits: Limits, example_count: int) -> int:
    """The most examples a split of `example_count` may hold out."""
    best = example_count - 1
    if limits.max_validation_examples is not None:
        best = min(best, limits.max_validation_examples)
    if limits.max_validation_fraction is not None and best > limits.validation_fraction_above:
        share = limits.max_validation_fraction
        best = min(
            best, max(limits.validation_fraction_above, math.floor(share * example_count / (1 + share)))
        )
    while best > 1 and not validation_allowed(limits, best, example_count - best):
        best -= 1
    return max(best, 0)


def largest_percent(limits: Limits, example_count: int) -> float | None:
    """The largest share (in tenths of a percent, 1 % to 50 %) whose split fits, or None."""
    if example_count < 2:
        return None
    most = largest_split(limits, example_count)
    tenths = min(int(MAX_SUGGESTED_PERCENT * 10), most * 1000 // example_count)
    while tenths >= MIN_SUGGESTED_PERCENT * 10:
        percent = tenths / 10
        held = split_count(example_count, percent)
        if validation_allowed(limits, held, example_count - held):
            return percent
        tenths -= 1
    return None


def check_validation_size(
    limits: Limits, choice: ValidationChoice | None, training: Dataset, other: Dataset | None
) -> None:
    """Refuse a validation set larger than the backend takes, with the numbers that fit."""
    if choice is None or (limits.max_validation_examples is None and limits.max_validation_fraction is None):
        return
    total = training.example_count
    if choice.percent is not None:
        if total < 2:
            return  # HoldoutTooSmall says so
        held = split_count(total, choice.percent)
        if validation_allowed(limits, held, total - held):
            return
        raise ValidationTooLarge(
            limits.backend,
            "split",
            held,
            total - held,
            limits.max_validation_examples,
            limits.max_validation_fraction,
            limits.validation_fraction_above,
            largest=largest_split(limits, total),
            asked_percent=choice.percent,
            percent=largest_percent(limits, total),
        )
    if other is None or validation_allowed(limits, other.example_count, total):
        return
    raise ValidationTooLarge(
        limits.backend,
        "dataset",
        other.example_count,
        total,
        limits.max_validation_examples,
        limits.max_validation_fraction,
        limits.validation_fraction_above,
        largest=largest_beside(limits, total),
        validation_name=other.display_name,
        percent=largest_percent(limits, total),
    )


def largest_beside(limits: Limits, training: int) -> int:
    """The most validation examples the backend takes beside `training` training examples."""
    best = limits.max_validation_examples if limits.max_validation_examples is not None else training
    if limits.max_validation_fraction is not None and best > limits.validation_fraction_above:
        best = min(
            best, max(limits.validation_fraction_above, math.floor(limits.max_validation_fraction * training))
        )
    return best
