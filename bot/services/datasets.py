"""A team's stored datasets: what is in one, renaming and deleting them."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.datasets import Limits
from bot.datasets.insight import DatasetInsight, InsightBuilder
from bot.services.errors import DatasetNameTaken, NotDatasetOwner, UnknownDataset
from bot.storage.models import Dataset
from bot.storage.repositories.datasets import DuplicateDatasetName, dataset_name_from
from bot.storage.store import Store

# How people name a dataset when they type one (`/tune start`, `/tune eval`, `/tune datasets`,
# `/tune dataset delete|rename`, `validation=`, the start form): a bare number, or `#` and a
# number, is always a dataset's id; `name:<name>` is always a name (how a name of digits alone,
# kept from a version that allowed one, is reached); anything else is a name. New names are
# never digits alone (`new_dataset_name`), so a name never stands where an id is meant.
NAME_PREFIX = "name:"
NUMBER_NAME_PREFIX = "dataset-"  # what a name of digits alone becomes: `2024` -> `dataset-2024`
_ID_REFERENCE = re.compile(r"#?([0-9]+)")
_DIGITS = re.compile(r"[0-9]+")
_ID_DIGITS = 18  # a 64-bit integer column holds any id of up to 18 digits


def is_number_name(name: str) -> bool:
    """A name of digits alone, which would read as a dataset's id."""
    return _DIGITS.fullmatch(name) is not None


def dataset_reference(name: str) -> str:
    """How to type the dataset called `name`: the name itself, or `name:<name>` for digits alone."""
    return NAME_PREFIX + name if is_number_name(name) else name


def lookup_dataset(store: Store, team_id: str, reference: str) -> Dataset | None:
    """The one reading of a typed dataset reference (see NAME_PREFIX); None when none matches."""
    typed = reference.strip().strip("`").strip()
    if typed.lower().startswith(NAME_PREFIX):
        return store.datasets.by_name(team_id, typed[len(NAME_PREFIX) :].strip())
    as_id = _ID_REFERENCE.fullmatch(typed)
    if as_id is not None:  # an id; too many digits for one is no dataset
        digits = as_id.group(1)
        return store.datasets.by_id(team_id, int(digits)) if len(digits) <= _ID_DIGITS else None
    return store.datasets.by_name(team_id, typed)


def find_dataset(store: Store, team_id: str, reference: str) -> Dataset:
    """The team's dataset `reference` names (UnknownDataset, listing the names, when none)."""
    dataset = lookup_dataset(store, team_id, reference)
    if dataset is None or dataset.id is None:
        raise UnknownDataset(reference.strip(), store.datasets.names(team_id))
    return dataset


def new_dataset_name(text: str) -> str:
    """The name a new or renamed dataset gets from what was typed (or its file name): short,
    typeable, and never digits alone (`2024.csv` -> `dataset-2024`)."""
    name = dataset_name_from(text)
    return NUMBER_NAME_PREFIX + name if is_number_name(name) else name


def dataset_insight(store: Store, dataset: Dataset) -> DatasetInsight:
    """What is in a stored dataset: as stored at upload, or (for a dataset uploaded before
    tunebot kept it) gathered once from its stored examples and kept from then on."""
    assert dataset.id is not None
    insight = DatasetInsight.from_json(store.datasets.insight(dataset.id))
    if insight is not None:
        return insight
    limits = Limits()
    builder = InsightBuilder(limits.max_input_chars, limits.max_output_chars)
    for index, pair in enumerate(store.datasets.examples(dataset.id), start=1):
        builder.observe(f"example {index}", pair.text_input, pair.output)
    insight = builder.finish()
    store.datasets.save_insight(dataset.id, insight.to_json())
    return insight


@dataclass(frozen=True)
class StartEstimate:
    """What a start on a dataset would train on: `share` of its tokens, `epochs` times,
    priced from `prices` (per 1M training tokens, by base model) when one applies."""

    insight: DatasetInsight
    epochs: int | None  # None: the service picks the number (Vertex AI)
    base_model: str
    prices: Mapping[str, float]
    currency: str
    share: float


def estimate_start(
    store: Store,
    dataset: Dataset,
    *,
    epochs: int | None,
    base_model: str,
    prices: Mapping[str, float],
    currency: str = "USD",
    held_out_percent: float | None = None,
) -> StartEstimate:
    """For a start: a `validation=N%` split trains on the rest, so the tokens shrink by that share."""
    share = 1.0 - (held_out_percent or 0.0) / 100.0
    return StartEstimate(dataset_insight(store, dataset), epochs, base_model, prices, currency, share)


def _owned_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, admins: Collection[str]
) -> Dataset:
    dataset = find_dataset(store, team_id, name)
    if dataset.owner_user_id != user_id and user_id not in admins:
        raise NotDatasetOwner(dataset.owner_user_id, dataset.name)
    return dataset


@dataclass(frozen=True)
class DatasetDeleted:
    name: str
    example_count: int


def delete_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, admins: Collection[str]
) -> DatasetDeleted:
    dataset = _owned_dataset(store, team_id=team_id, user_id=user_id, name=name, admins=admins)
    assert dataset.id is not None
    store.datasets.delete(dataset.id)
    return DatasetDeleted(dataset.name, dataset.example_count)


@dataclass(frozen=True)
class DatasetRenamed:
    """`old` is now `new`; `wanted` is the name asked for, `cleaned` that name made valid
    (`new` differs from `cleaned` when it was taken)."""

    old: str
    new: str
    wanted: str
    cleaned: str


def rename_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, new_name: str, admins: Collection[str]
) -> DatasetRenamed:
    dataset = _owned_dataset(store, team_id=team_id, user_id=user_id, name=name, admins=admins)
    assert dataset.id is not None
    cleaned = new_dataset_name(new_name + ".x")
    try:
        renamed = store.datasets.rename(dataset.id, cleaned)
    except DuplicateDatasetName as exc:
        raise DatasetNameTaken(cleaned) from exc
    return DatasetRenamed(dataset.name, renamed.name, new_name, cleaned)
