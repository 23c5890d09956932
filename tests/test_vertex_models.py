"""Vertex base models and regions are configuration (VERTEX_BASE_MODELS) with Google's
current list as the default; a start the region rules forbid is refused before anything
is uploaded; tuned Gemini 3.x models are called on the `us`/`eu` multi-region host."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.backends.vertex_models import ModelCatalogError, load_catalog
from bot.datasets.samples import tutorial_csv
from bot.vertex import StaticToken, VertexClient
from standins.offline import OfflineStack
from tests.helpers.slack import (
    OWNER,
    all_text,
    command,
    open_start_form,
    running_stack,
    store_of,
    upload_file,
)


def test_the_default_list_is_googles_current_one() -> None:
    catalog = load_catalog(None)
    names = [choice.name for choice in catalog.choices]
    assert sorted(names) == sorted(
        [
            "gemini-3.5-flash",
            "gemini-3.1-flash-lite",
            "gemini-2.5-pro",
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
        ]
    )
    assert names[0] == "gemini-2.5-flash"  # the default comes first
    assert not any("2.0" in name for name in names)
    labels = {c.name: c.label for c in catalog.choices}
    assert labels["gemini-3.1-flash-lite"] == "Gemini 3.1 Flash-Lite (preview)"
    pro, flash3 = catalog.get("gemini-2.5-pro"), catalog.get("gemini-3.5-flash")
    assert pro is not None and pro.adapter_sizes == (1, 2, 4, 8) and pro.region_refusal("asia-east1") is None
    assert flash3 is not None and flash3.multi_region_serving and flash3.max_example_tokens == 131_072
    assert flash3.max_validation_examples == 5000 and flash3.region_refusal("europe-west4") is None


def test_the_list_can_be_replaced_inline_or_from_a_file(tmp_path: Path) -> None:
    models = [{"name": "gemini-4-flash", "label": "Gemini 4 Flash", "tuning_regions": ["us-east5"]}]
    inline = load_catalog(json.dumps(models), "gemini-4-flash")
    assert [c.name for c in inline.choices] == ["gemini-4-flash"] and inline.default == "gemini-4-flash"
    path = tmp_path / "models.json"
    path.write_text(json.dumps([*models, {"name": "gemini-2.5-pro", "adapter_sizes": [1, 2]}]))
    from_file = load_catalog(str(path))
    assert from_file.default == "gemini-4-flash"  # the configured default is not listed: the first one
    refusal = from_file.get("gemini-4-flash").region_refusal("us-central1")  # type: ignore[union-attr]
    assert refusal is not None and "`us-east5`" in refusal
    for bad, message in (
        ("[{}]", 'needs a "name"'),
        ('[{"name": "x", "price": 1}]', "unknown fields price"),
        ("{", "not valid JSON"),
        (str(tmp_path / "missing.json"), "cannot read"),
    ):
        with pytest.raises(ModelCatalogError, match=message):
            load_catalog(bad)


def test_resources_in_us_or_eu_are_called_on_the_multi_region_host() -> None:
    client = VertexClient(project="p", location="us-central1", tokens=StaticToken("t"))
    assert client.base_for("projects/p/locations/us-central1/endpoints/1") == (
        "https://us-central1-aiplatform.googleapis.com"
    )
    assert (
        client.base_for("projects/p/locations/us/endpoints/1") == "https://aiplatform.us.rep.googleapis.com"
    )
    assert client.base_for("projects/p/locations/eu/models/2") == "https://aiplatform.eu.rep.googleapis.com"


@pytest.fixture
def tokyo_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex", vertex_location="asia-northeast1") as running:
        yield running


async def test_a_gemini_3_start_outside_its_regions_is_refused_before_any_upload(
    tokyo_stack: OfflineStack,
) -> None:
    stack = tokyo_stack
    assert stack.emulator is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    answer = await command(stack, OWNER, "start tutorial base_model=gemini-3.5-flash validation=10%")
    text = answer if isinstance(answer, str) else all_text(answer)
    assert "can be tuned only in `us-central1` or `europe-west4`" in text and "`asia-northeast1`" in text
    assert "Nothing was uploaded" in text
    assert stack.emulator.emulator.vertex.state.objects == {}
    by_method = stack.emulator.emulator.stats()["by_method"]
    assert "storage.objects.insert" not in by_method and "vertex.tuningJobs.create" not in by_method
    assert store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) == []


async def test_the_start_form_offers_the_configured_models(tokyo_stack: OfflineStack) -> None:
    stack = tokyo_stack
    assert stack.sender is not None
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    view = await open_start_form(stack, OWNER)
    [select] = [b for b in view.payload["blocks"] if b.get("block_id") == "base_model"]
    offered = [o["value"] for o in select["element"]["options"]]
    assert offered[0] == "gemini-2.5-flash" and "gemini-3.5-flash" in offered
    assert "gemini-3.1-flash-lite" in offered and "gemini-2.0-flash-001" not in offered
