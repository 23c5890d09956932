"""The sweep form: `/tune sweep` alone opens it; its submission is read by the command's parsers
(a mistake shown on its field, nothing started) and starts the sweep as the command does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.datasets.samples import tutorial_csv
from bot.domain.approvals import starts_from_json
from bot.storage.repositories.datasets import decode_examples
from standins.fakeslack import Ephemeral
from standins.fakeslack.records import View
from standins.offline import OfflineStack
from tests.helpers.approvals import APPROVER, requests_of
from tests.helpers.slack import (
    OWNER,
    ack_body,
    all_text,
    command,
    ephemerals_for,
    next_ephemeral,
    running_stack,
    store_of,
    upload_file,
    wait_for,
)
from tests.test_sweeps import sent_grid, started_variants, sweep_messages, vertex_stack

__all__ = ["vertex_stack"]  # the fixture, shared with tests/test_sweeps.py


async def open_sweep_form(stack: OfflineStack, user: str = OWNER) -> View:
    """`/tune sweep` alone: the form the bot opens for `user`."""
    assert stack.sender is not None
    before = len(stack.workspace.views(user))
    await stack.sender.slash_command(user, "sweep")
    return await wait_for(
        stack, lambda: (lambda vs: vs[-1] if len(vs) > before else None)(stack.workspace.views(user))
    )


def fields(**typed: str | list[str]) -> dict[str, Any]:
    """The form's state: the tutorial dataset chosen, 10% held out, and each typed field."""
    values: dict[str, Any] = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "tutorial"}}},
        "validation": {"validation": "10%"},
        "rank_by": {"rank_by": {"type": "static_select", "selected_option": {"value": "win_rate"}}},
    }
    for block_id, value in typed.items():
        if isinstance(value, list):
            chosen = [{"value": v} for v in value]
            values[block_id] = {block_id: {"type": "multi_static_select", "selected_options": chosen}}
        else:
            values[block_id] = {block_id: value}
    return values


async def submit(stack: OfflineStack, view: View | dict[str, Any], values: dict[str, Any]) -> dict[str, str]:
    """Submit the form; the errors it answered on its fields (empty when it closed)."""
    assert stack.sender is not None
    sent = await stack.sender.view_submission(OWNER, view, values)
    assert sent.status_code == 200
    body = sent.json() if sent.text.strip() else {}
    errors: dict[str, str] = body.get("errors") or {}
    return errors


async def test_sweep_alone_opens_the_form(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())

    view = await open_sweep_form(stack)

    assert view.callback_id == "tune_sweep"
    blocks = {b.get("block_id"): b for b in view.payload["blocks"]}
    assert list(blocks) == [
        "dataset",
        "epochs",
        "learning_rate_multiplier",
        "adapter_size",
        "base_model",
        "validation",
        "rank_by",
        "name",
    ]
    assert [o["value"] for o in blocks["dataset"]["element"]["options"]] == ["tutorial"]
    assert "every combination is started, at most 8" in blocks["epochs"]["hint"]["text"]
    assert blocks["validation"]["element"]["initial_value"] == "10%" and not blocks["validation"].get(
        "optional"
    )
    assert blocks["rank_by"]["element"]["initial_option"]["value"] == "win_rate"
    models = [o["value"] for o in blocks["base_model"]["element"]["options"]]
    assert "gemini-2.5-flash" in models and blocks["base_model"].get("optional")


async def test_a_mistake_is_shown_on_its_field_and_starts_nothing(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    creates = len(vertex.create_requests)

    view = await open_sweep_form(stack)
    errors = await submit(
        stack, view, fields(epochs="2,x", adapter_size="3", learning_rate_multiplier="0.5,1")
    )
    assert set(errors) == {"epochs", "adapter_size"}
    assert "epochs must be a whole number, not x" in errors["epochs"]
    assert "adapter_size must be one of" in errors["adapter_size"]

    one = await submit(stack, view, fields(epochs="2"))
    assert one == {
        "epochs": "A sweep needs at least two variants: give an option several values, e.g. epochs=2,4."
    }
    none = await submit(stack, view, fields(epochs="2,4", validation="none"))
    assert set(none) == {"validation"} and "held-out examples" in none["validation"]
    nowhere = await submit(stack, view, fields(epochs="2,4", validation="nosuch"))
    assert set(nowhere) == {"validation"} and "nosuch" in nowhere["validation"]

    assert len(vertex.create_requests) == creates
    assert store_of(stack).jobs.team_models(stack.workspace.team_id) == []
    assert store_of(stack).sweeps.get(1) is None


async def test_a_two_by_two_grid_starts_four_variants_on_one_split_with_one_board(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    seen = len(ephemerals_for(stack, OWNER))

    view = await open_sweep_form(stack)
    grid = fields(epochs="2, 4", learning_rate_multiplier="0.5,1", name="support")
    grid["rank_by"] = {"rank_by": {"type": "static_select", "selected_option": {"value": "exact"}}}
    assert await submit(stack, view, grid) == {}

    told = await wait_for(
        stack,
        lambda: next(
            (all_text(e) for e in ephemerals_for(stack, OWNER)[seen:] if "variants started" in all_text(e)),
            None,
        ),
    )
    assert "Sweep 1: 4 variants started" in told and "/tune sweep cancel 1" in told
    store = store_of(stack)
    jobs = await started_variants(stack, 4)
    assert len(jobs) == 4
    assert sent_grid(vertex.create_requests[-4:]) == [(2, 0.5), (2, 1.0), (4, 0.5), (4, 1.0)]
    assert sorted(j.display_name for j in jobs) == [
        "support e2 lr×0.5",
        "support e2 lr×1",
        "support e4 lr×0.5",
        "support e4 lr×1",
    ]
    holdouts = [store.evaluations.holdout(j.id or 0) for j in jobs]
    held = [decode_examples(h.examples_gz) for h in holdouts if h is not None]
    assert len(held) == 4 and held[0] and all(h == held[0] for h in held)
    sweep_row = store.sweeps.get(1)
    assert sweep_row is not None and sweep_row.rank_by == "exact"
    await stack.poll(all_due=True)
    [board] = sweep_messages(stack)
    assert "Sweep 1" in board.text and "e4 lr×1" in board.text


async def test_base_models_are_a_grid_field_too(vertex_stack: OfflineStack) -> None:
    stack = vertex_stack
    assert stack.emulator is not None
    vertex = stack.emulator.emulator.vertex
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    view = await open_sweep_form(stack)
    assert await submit(stack, view, fields(base_model=["gemini-2.5-flash", "gemini-2.5-pro"])) == {}
    jobs = await started_variants(stack, 2)
    assert len(jobs) == 2
    assert sorted(j.display_name for j in jobs) == ["tutorial gemini-2.5-flash", "tutorial gemini-2.5-pro"]
    assert sorted(body["baseModel"] for body in vertex.create_requests) == [
        "gemini-2.5-flash",
        "gemini-2.5-pro",
    ]


async def test_a_grid_over_the_sweep_max_is_refused_on_the_form(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex", settings={"TUNEBOT_SWEEP_MAX": "3"}) as stack:
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        view = await open_sweep_form(stack)
        hint = next(b for b in view.payload["blocks"] if b.get("block_id") == "epochs")["hint"]["text"]
        assert "at most 3" in hint

        errors = await submit(
            stack, view, fields(epochs="2,4", learning_rate_multiplier="0.5,1", adapter_size="4")
        )

        too_many = (
            "That sweep has 4 combinations; at most 3 may run at once (TUNEBOT_SWEEP_MAX). Give fewer values."
        )
        assert errors == {"epochs": too_many, "learning_rate_multiplier": too_many}
        assert store_of(stack).jobs.team_models(stack.workspace.team_id) == []
        assert store_of(stack).sweeps.get(1) is None


async def test_the_form_needs_vertex(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        views = len(stack.workspace.views(OWNER))
        said = await command(stack, OWNER, "sweep")
        text = all_text(said) if isinstance(said, Ephemeral) else said
        assert "Sweeps run on Vertex AI" in text
        assert len(stack.workspace.views(OWNER)) == views
        # A form opened before the backend changed: refused on its dataset field.
        form = {"type": "modal", "callback_id": "tune_sweep", "private_metadata": "{}", "blocks": []}
        errors = await submit(stack, form, fields(epochs="2,4"))
        assert set(errors) == {"dataset"} and errors["dataset"].startswith("Sweeps run on Vertex AI")


async def test_a_form_over_the_approval_limit_is_one_request_for_the_sweeps_total(tmp_path: Path) -> None:
    settings = {
        "TUNEBOT_APPROVERS": APPROVER,
        "TUNEBOT_APPROVAL_ABOVE": "2",
        "TUNEBOT_TRAINING_PRICES": "gemini-2.5-flash=10000",
    }
    with running_stack(tmp_path, backend="vertex", settings=settings) as stack:
        stack.workspace.add_user(APPROVER, "amara")
        await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
        seen = len(ephemerals_for(stack, OWNER))
        view = await open_sweep_form(stack)
        grid = fields(epochs="2,4", learning_rate_multiplier="0.5,1", validation="20%")
        assert await submit(stack, view, grid) == {}

        told = all_text(await next_ephemeral(stack, OWNER, seen))
        assert "needs an approval" in told
        [asked] = await wait_for(stack, lambda: requests_of(stack))
        starts = starts_from_json(asked.starts)
        assert len(starts) == 4 and {s.sweep_id for s in starts} == {1}
        assert asked.amount is not None and asked.amount > 2
        assert all(s.estimate is not None and s.estimate < 2 for s in starts)
        assert store_of(stack).jobs.team_models(stack.workspace.team_id) == []


async def test_a_dataset_gone_since_the_form_opened_is_said_and_starts_nothing(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    seen = len(ephemerals_for(stack, OWNER))
    view = await open_sweep_form(stack)
    values = fields(epochs="2,4")
    values["dataset"] = {"dataset": {"type": "static_select", "selected_option": {"value": "gone"}}}

    assert await submit(stack, view, values) == {}

    told = all_text(await next_ephemeral(stack, OWNER, seen))
    assert "gone" in told
    assert store_of(stack).jobs.team_models(stack.workspace.team_id) == []
    assert store_of(stack).sweeps.get(1) is None


async def test_help_names_the_form(vertex_stack: OfflineStack) -> None:
    assert vertex_stack.sender is not None
    sent = await vertex_stack.sender.slash_command(OWNER, "help")
    text = all_text(ack_body(sent))
    assert "`/tune sweep` alone for a form" in text and "adapter_size=4,8" in text
