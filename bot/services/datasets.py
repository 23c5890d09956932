"""A team's stored datasets: what is in one, renaming and deleting them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bot.datasets import Limits
from bot.datasets.insight import DatasetInsight, InsightBuilder
from bot.domain.pricing import CostBasis, CostEstimate, estimate_cost, price_of
from bot.domain.requests import ValidationChoice
from bot.services.errors import DatasetNameTaken, NotDatasetOwner, UnknownDataset
from bot.storage.models import Dataset
from bot.storage.repositories.datasets import DuplicateDatasetName
from bot.storage.store import Store

# How people name a dataset when they type one (`/tune start`, `/tune eval`, `/tune datasets`,
# `/tune dataset delete|rename`, `validation=`, the start form): a bare number, or `#` and a
# number, is always a dataset's id; `name:<name>` is always a name (how a name of digits alone,
# kept from a version that allowed one, is reached); anything else is a name. New names are
# never digits alone (`new_dataset_name`), so a name never stands where an id is meant.
#
# A dataset has two names: its display name, as typed (any script, emoji; `clean_display_name`),
# and its slug (`Dataset.name`), what is easiest to type: the display name spelled in ASCII
# (`🤖 QA set` -> `qa-set`, `Café` -> `cafe`), or `dataset-<id>` when it has letters ASCII
# cannot spell (`한국어 데이터` -> `dataset-7`; no transliteration library is a dependency, and
# a guessed romanization would be harder to type than a short number). A name is either.
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
    """The one reading of a typed dataset reference (see NAME_PREFIX): an id, a slug, or a
    display name (case-insensitively); None when none matches."""
    typed = reference.strip().strip("`").strip()
    if typed.lower().startswith(NAME_PREFIX):
        return _by_name(store, team_id, typed[len(NAME_PREFIX) :].strip())
    as_id = _ID_REFERENCE.fullmatch(typed)
    if as_id is not None:  # an id; too many digits for one is no dataset
        digits = as_id.group(1)
        return store.datasets.by_id(team_id, int(digits)) if len(digits) <= _ID_DIGITS else None
    return _by_name(store, team_id, typed)


def _by_name(store: Store, team_id: str, name: str) -> Dataset | None:
    found = store.datasets.by_name(team_id, name)
    if found is None and name.lower() != name:
        found = store.datasets.by_name(team_id, name.lower())
    if found is None and name:
        found = store.datasets.by_display_name(team_id, clean_display_name(name))
    return found


def find_dataset(store: Store, team_id: str, reference: str) -> Dataset:
    """The team's dataset `reference` names (UnknownDataset, listing the names, when none)."""
    dataset = lookup_dataset(store, team_id, reference)
    if dataset is None or dataset.id is None:
        raise UnknownDataset(reference.strip(), store.datasets.names(team_id))
    return dataset


DISPLAY_NAME_LIMIT = 80  # characters (the column's length)
SLUG_LIMIT = 60
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SPACES = re.compile(r"\s+")
# Bidirectional embeddings, overrides and isolates: they reorder the text around a name.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@dataclass(frozen=True)
class DatasetName:
    """The names a new or renamed dataset asks for: `display` as typed (cleaned), and `slug`
    (None: the slug is `dataset-<id>`, the display name having letters ASCII cannot spell)."""

    display: str
    slug: str | None


def clean_display_name(text: str) -> str:
    """What was typed, kept in any script: control characters and bidi overrides out, runs of
    white space one space, at most DISPLAY_NAME_LIMIT characters."""
    kept = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text if c not in _BIDI_CONTROLS)
    return _SPACES.sub(" ", kept).strip()[:DISPLAY_NAME_LIMIT].rstrip()


def slug_for(display_name: str) -> str | None:
    """The display name spelled for typing: ASCII letters, digits, `-`, `_`, `.`, lowercase
    (accents dropped: `Café` -> `cafe`; emoji and punctuation become `-`); None when it has
    letters ASCII cannot spell, or nothing to spell (the slug is then `dataset-<id>`)."""
    decomposed = unicodedata.normalize("NFKD", display_name)
    if any(c.isalpha() and not c.isascii() for c in decomposed):
        return None
    ascii_only = decomposed.encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_UNSAFE.sub("-", ascii_only).strip("-._").lower()[:SLUG_LIMIT].strip("-._")
    if not slug:
        return None
    return NUMBER_NAME_PREFIX + slug if is_number_name(slug) else slug


def new_dataset_name(typed: str | None, file_name: str = "") -> DatasetName:
    """The names a new or renamed dataset gets from what was typed, or else its file name
    (without folder and extension): never digits alone (`2024.csv` -> `dataset-2024`)."""
    if typed is None or not clean_display_name(typed):
        stem = file_name.rsplit("/", 1)[-1]
        typed = stem.rsplit(".", 1)[0] if "." in stem else stem
    display = clean_display_name(typed) or "dataset"
    if is_number_name(display):
        display = NUMBER_NAME_PREFIX + display
    return DatasetName(display, slug_for(display))


def dataset_insight(store: Store, dataset: Dataset) -> DatasetInsight:
    """What is in a stored dataset: as stored at upload, or (for a dataset uploaded before
    tunebot kept it) gathered once from its stored examples and kept from then on."""
    assert dataset.id is not None
    insight = DatasetInsight.from_json(store.datasets.insight(dataset.id))
    if insight is not None:
        return insight
    limits = Limits()
    builder = InsightBuilder(limits.max_input_chars, limits.max_output_chars)
    if dataset.source_uri:  # read in place from Cloud Storage: no stored examples to look at
        return builder.finish()
    for index, pair in enumerate(store.datasets.examples(dataset.id), start=1):
        builder.observe(f"example {index}", pair.text_input, pair.output)
    insight = builder.finish()
    store.datasets.save_insight(dataset.id, insight.to_json())
    return insight


@dataclass(frozen=True)
class StartEstimate:
    """What a start on a dataset would cost: `share` of its tokens trained on, and the
    computed `cost` (bot.domain.pricing: tokens × epochs plus the validation set, priced by
    the table or the operator's setting; unknown without a price)."""

    insight: DatasetInsight
    cost: CostEstimate
    share: float = 1.0
    validation_dataset: str | None = None  # the display name of a `validation=<dataset>`

    @property
    def epochs(self) -> int | None:
        return self.cost.epochs

    @property
    def base_model(self) -> str:
        return self.cost.base_model


def start_cost_basis(
    store: Store,
    dataset: Dataset,
    *,
    base_model: str,
    prices: Mapping[str, float],
    currency: str = "USD",
    validation: ValidationChoice | None = None,
    validation_sent: bool = True,
    vertex: bool = True,
) -> tuple[DatasetInsight, CostBasis, float, str | None]:
    """The insight, the cost basis (tokens of one epoch and of the validation set, and the
    price), the share trained on and the validation dataset's name of a start. A held-out
    share is taken from the training tokens; a validation set the backend is not sent costs
    nothing. `vertex`: the job runs on Vertex AI, whose prices tunebot's table holds."""
    insight = dataset_insight(store, dataset)
    percent = validation.percent if validation is not None else None
    share = 1.0 - (percent or 0.0) / 100.0
    training = round(insight.total_tokens * share)
    held_out = insight.total_tokens - training
    other_name = None
    if validation is not None and validation.dataset is not None:
        other = lookup_dataset(store, dataset.team_id, validation.dataset)
        if other is not None and other.id is not None and other.id != dataset.id:
            held_out = dataset_insight(store, other).total_tokens
            other_name = other.display_name
    basis = CostBasis(
        base_model,
        training,
        held_out if validation_sent else 0,
        price_of(base_model, prices, currency, vertex=vertex),
        currency,
    )
    return insight, basis, share, other_name


def estimate_start(
    store: Store,
    dataset: Dataset,
    *,
    epochs: int | None,
    base_model: str,
    prices: Mapping[str, float],
    currency: str = "USD",
    validation: ValidationChoice | None = None,
    validation_sent: bool = True,
    vertex: bool = True,
) -> StartEstimate:
    """For a start: a `validation=N%` split trains on the rest, so the tokens shrink by that
    share, and the held-out part is billed as evaluations (see bot.domain.pricing)."""
    insight, basis, share, other = start_cost_basis(
        store,
        dataset,
        base_model=base_model,
        prices=prices,
        currency=currency,
        validation=validation,
        validation_sent=validation_sent,
        vertex=vertex,
    )
    return StartEstimate(insight, estimate_cost(basis, epochs), share, other)


def _owned_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, admins: Collection[str]
) -> Dataset:
    return _check_owner(find_dataset(store, team_id, name), user_id, admins)


def _check_owner(dataset: Dataset, user_id: str, admins: Collection[str]) -> Dataset:
    if dataset.owner_user_id != user_id and user_id not in admins:
        raise NotDatasetOwner(dataset.owner_user_id, dataset.display_name)
    return dataset


@dataclass(frozen=True)
class DatasetDeletePrompt:
    """What `/tune dataset delete` asks to confirm: the dataset and the jobs tuned on it."""

    dataset_id: int
    display_name: str
    slug: str
    example_count: int
    job_names: list[str]


def dataset_for_delete(
    store: Store, *, team_id: str, user_id: str, name: str, admins: Collection[str]
) -> DatasetDeletePrompt:
    """Before the confirmation: the owner's (or an admin's) dataset `name`, and its jobs."""
    dataset = _owned_dataset(store, team_id=team_id, user_id=user_id, name=name, admins=admins)
    assert dataset.id is not None
    return DatasetDeletePrompt(
        dataset.id,
        dataset.display_name,
        dataset.name,
        dataset.example_count,
        store.datasets.job_names(dataset.id),
    )


@dataclass(frozen=True)
class DatasetDeleted:
    """`name` is the display name; None when the dataset was already gone."""

    name: str | None
    example_count: int = 0


def delete_dataset(
    store: Store, *, team_id: str, user_id: str, dataset_id: int, admins: Collection[str]
) -> DatasetDeleted:
    """The Delete click: permission is checked again here, since the click's value could be
    forged (another team's dataset is not found; another user's is refused). A repeated
    click finds the dataset gone."""
    dataset = store.datasets.by_id(team_id, dataset_id)
    if dataset is None or dataset.id is None:
        return DatasetDeleted(None)
    _check_owner(dataset, user_id, admins)
    store.datasets.delete(dataset.id)
    return DatasetDeleted(dataset.display_name, dataset.example_count)


def dataset_display_name(store: Store, team_id: str, dataset_id: int) -> str | None:
    """The display name of the team's dataset `dataset_id` (None: there is none)."""
    dataset = store.datasets.by_id(team_id, dataset_id)
    return dataset.display_name if dataset else None


@dataclass(frozen=True)
class DatasetRenamed:
    """`old` (a display name) is now `dataset`; `wanted` is the name asked for and `asked` the
    names it asked for."""

    old: str
    dataset: Dataset
    wanted: str
    asked: DatasetName


def rename_dataset(
    store: Store, *, team_id: str, user_id: str, name: str, new_name: str, admins: Collection[str]
) -> DatasetRenamed:
    dataset = _owned_dataset(store, team_id=team_id, user_id=user_id, name=name, admins=admins)
    assert dataset.id is not None
    asked = new_dataset_name(new_name)
    try:
        renamed = store.datasets.rename(dataset.id, asked.slug, asked.display)
    except DuplicateDatasetName as exc:
        raise DatasetNameTaken(str(exc)) from exc
    return DatasetRenamed(dataset.display_name, renamed, new_name, asked)
