"""Vertex AI's hyperparameters by Vertex's names (issue #20 item 6): `epochs` (optional: Vertex
picks one), `learning_rate_multiplier`, `adapter_size` (checked against the base model),
`export_last_checkpoint_only`; `batch_size` and `learning_rate` refused on Vertex with what to
use instead; the Gemini API keeps its options and refuses Vertex's. What the emulator received
and what the job message shows are compared."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.datasets.samples import tutorial_csv
from bot.domain.errors import UsageError
from bot.domain.types import SentHyperparameters
from bot.polling.view import job_view
from bot.presentation.progress import progress_blocks
from bot.slack.commands import parse_start
from bot.storage.models import TuningJob
from bot.vertex import VertexAPIError
from standins.emulator.vertex.state import VertexJob
from standins.offline import OFFLINE_VERTEX_BUCKET, OfflineStack
from tests.helpers.slack import (
    OWNER,
    ack_body,
    all_text,
    bot_posts,
    command,
    eventually,
    open_start_form,
    running_stack,
    store_of,
    upload_file,
)


@pytest.fixture
def vertex_stack(tmp_path: Path) -> Iterator[OfflineStack]:
    with running_stack(tmp_path, backend="vertex") as running:
        yield running


def emulated_jobs(stack: OfflineStack) -> list[VertexJob]:
    assert stack.emulator is not None
    return list(stack.emulator.emulator.vertex.state.jobs.values())


async def started(stack: OfflineStack, options: str) -> tuple[TuningJob, str, str]:
    """`/tune start tutorial <options>`: the job once its message is posted, that message, and
    the answer to the command."""
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    assert stack.sender is not None
    sent = await stack.sender.slash_command(OWNER, f"start tutorial {options}")
    answer = str(ack_body(sent).get("text") or "")
    store = store_of(stack)
    job = await eventually(
        lambda: next((j for j in store.jobs.active() if j.message_ts and j.lease_owner is None), None)
    )
    return job, job_message(stack, job), answer


def job_message(stack: OfflineStack, job: TuningJob) -> str:
    [message] = [m for m in bot_posts(stack) if m.ts == job.message_ts]
    return all_text(message)


async def refused(stack: OfflineStack, options: str) -> str:
    """`/tune start tutorial <options>` refused: the answer; no job, no model, no post."""
    await upload_file(stack, OWNER, "tutorial.csv", tutorial_csv())
    shown = await command(stack, OWNER, f"start tutorial {options}")
    answer = shown if isinstance(shown, str) else shown.text
    assert store_of(stack).jobs.for_owner(stack.workspace.team_id, OWNER) == []
    assert stack.emulator is not None
    assert emulated_jobs(stack) == [] and stack.emulator.emulator.model_ids() == []
    assert bot_posts(stack) == []
    return answer


# ---- parsing --------------------------------------------------------------------------------


def test_options_left_out_are_none_so_the_backend_decides() -> None:
    args = parse_start("tutorial")
    assert (args.epoch_count, args.batch_size, args.learning_rate) == (None, None, None)
    assert (args.learning_rate_multiplier, args.adapter_size, args.export_last_checkpoint_only) == (
        None,
        None,
        None,
    )
    typed = parse_start(
        "tutorial epochs=1 learning_rate_multiplier=0.25 adapter_size=16 export_last_checkpoint_only=no"
    )
    assert typed.epoch_count == 1 and typed.learning_rate_multiplier == 0.25
    assert typed.adapter_size == 16 and typed.export_last_checkpoint_only is False
    assert typed.given == (
        "epochs",
        "learning_rate_multiplier",
        "adapter_size",
        "export_last_checkpoint_only",
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("learning_rate_multiplier=0", "`learning_rate_multiplier` must be greater than 0, not `0`."),
        ("learning_rate_multiplier=-1", "`learning_rate_multiplier` must be greater than 0, not `-1`."),
        ("learning_rate_multiplier=nan", "`learning_rate_multiplier` must be greater than 0, not `nan`."),
        ("learning_rate_multiplier=fast", "must be a number such as 1.0, not `fast`."),
        ("adapter_size=3", "`adapter_size` must be one of 1, 2, 4, 8, 16, 32, not 3."),
        ("adapter_size=four", "`adapter_size` must be one of 1, 2, 4, 8, 16, 32, not `four`."),
        ("export_last_checkpoint_only=maybe", "must be `true` or `false`, not `maybe`."),
        ("epochs=101", "`epochs` must be between 1 and 100, not 101."),
    ],
)
def test_bad_vertex_option_values_are_explained(typed: str, expected: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_start(f"tutorial {typed}")
    assert expected in str(caught.value)


# ---- on Vertex AI ---------------------------------------------------------------------------


async def test_batch_size_is_refused_on_vertex_saying_what_to_do(vertex_stack: OfflineStack) -> None:
    answer = await refused(vertex_stack, "batch_size=8")
    assert "Vertex AI chooses the batch size itself; leave `batch_size` out." in answer
    assert "Nothing was started." in answer


async def test_learning_rate_is_refused_on_vertex_pointing_at_the_multiplier(
    vertex_stack: OfflineStack,
) -> None:
    answer = await refused(vertex_stack, "learning_rate=0.0002 batch_size=8")
    assert (
        "On Vertex AI use `learning_rate_multiplier=…` (1.0 is Vertex's default rate for the model) "
        "instead of `learning_rate`."
    ) in answer
    assert "leave `batch_size` out" in answer  # both at once


async def test_an_adapter_size_the_base_model_does_not_allow_names_the_allowed_ones(
    vertex_stack: OfflineStack,
) -> None:
    answer = await refused(vertex_stack, "base_model=gemini-2.5-pro adapter_size=16")
    assert "`gemini-2.5-pro` allows adapter sizes 1, 2, 4, 8; choose one of them." in answer
    assert vertex_stack.emulator is not None
    assert vertex_stack.emulator.emulator.vertex.state.objects == {}  # nothing uploaded either


async def test_vertex_receives_exactly_the_options_and_the_message_shows_them(
    vertex_stack: OfflineStack,
) -> None:
    job, message, answer = await started(
        vertex_stack,
        "base_model=gemini-2.5-pro epochs=2 learning_rate_multiplier=0.5 adapter_size=8 "
        "export_last_checkpoint_only=true",
    )
    [sent] = emulated_jobs(vertex_stack)
    assert (sent.epochs, sent.epochs_chosen, sent.multiplier) == (2, False, 0.5)
    assert sent.adapter_size == "ADAPTER_SIZE_EIGHT" and sent.export_last_checkpoint_only is True
    assert sent.batch_size is None and sent.learning_rate is None
    assert (
        "2 epochs, learning-rate multiplier 0.5, adapter size 8, export last checkpoint only: yes" in message
    )
    assert "batch size" not in message and "learning rate " not in message
    assert job.epoch_count == 2
    assert "× 2 epochs; an estimate" in answer


async def test_without_epochs_vertex_chooses_and_the_message_says_so_until_the_job_tells(
    vertex_stack: OfflineStack,
) -> None:
    stack = vertex_stack
    job, message, answer = await started(stack, "")
    assert "training tokens per epoch (an estimate; Vertex chooses the number of epochs" in answer
    [sent] = emulated_jobs(stack)
    assert sent.epochs_chosen and sent.adapter_size is None and not sent.export_last_checkpoint_only
    assert (
        "epochs: chosen by Vertex, learning-rate multiplier 1, adapter size: Vertex's default, "
        "export last checkpoint only: no"
    ) in message
    assert stack.emulator is not None
    stack.emulator.advance(3)  # the dataset is read: the job now reports the count it chose
    await stack.poll(all_due=True)
    stored = store_of(stack).jobs.get(job.id or 0)
    assert stored is not None and stored.epoch_count == sent.epochs == 3
    shown = await eventually(
        lambda: (lambda text: text if "3 epochs, learning-rate multiplier 1" in text else None)(
            job_message(stack, job)
        )
    )
    assert "chosen by Vertex" not in shown


async def test_export_last_checkpoint_only_defaults_to_the_setting(tmp_path: Path) -> None:
    with running_stack(tmp_path, backend="vertex") as stack:
        assert stack.runtime is not None
        stack.runtime.ctx.backend.export_last_checkpoint_only = True  # type: ignore[attr-defined]
        _, message, _ = await started(stack, "epochs=1 adapter_size=1")
        [sent] = emulated_jobs(stack)
        assert sent.export_last_checkpoint_only is True and sent.epochs == 1
        assert (
            "1 epoch, learning-rate multiplier 1, adapter size 1, export last checkpoint only: yes" in message
        )


async def test_the_vertex_start_form_shows_vertex_fields(vertex_stack: OfflineStack) -> None:
    await upload_file(vertex_stack, OWNER, "tutorial.csv", tutorial_csv())
    view = await open_start_form(vertex_stack, OWNER)
    ids = [b.get("block_id") for b in view.payload["blocks"]]
    assert {"epochs", "learning_rate_multiplier", "adapter_size", "export_last_checkpoint_only"} <= set(ids)
    assert "batch_size" not in ids and "learning_rate" not in ids
    fields = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": "tutorial"}}},
        "learning_rate_multiplier": {"learning_rate_multiplier": "2"},
        "adapter_size": {"adapter_size": "2"},
        "export_last_checkpoint_only": {
            "export_last_checkpoint_only": {"type": "static_select", "selected_option": {"value": "true"}}
        },
        "base_model": {
            "base_model": {"type": "static_select", "selected_option": {"value": "gemini-2.5-flash"}}
        },
    }
    assert vertex_stack.sender is not None
    done = await vertex_stack.sender.view_submission(OWNER, view, fields)
    assert done.status_code == 200 and not done.text.strip()
    [sent] = await eventually(lambda: emulated_jobs(vertex_stack) or None)
    assert sent.epochs_chosen and sent.multiplier == 2.0 and sent.adapter_size == "ADAPTER_SIZE_TWO"
    assert sent.export_last_checkpoint_only is True


# ---- on the Gemini API ----------------------------------------------------------------------


async def test_the_gemini_api_keeps_its_options_and_shows_them(stack: OfflineStack) -> None:
    _, message, _ = await started(stack, "epochs=2 batch_size=8 learning_rate=0.0002")
    assert "2 epochs, batch size 8, learning rate 0.0002" in message


@pytest.mark.parametrize(
    "option", ["learning_rate_multiplier=2", "adapter_size=4", "export_last_checkpoint_only=true"]
)
async def test_the_gemini_api_refuses_vertex_options_naming_the_backend(
    stack: OfflineStack, option: str
) -> None:
    answer = await refused(stack, option)
    name = option.split("=", 1)[0]
    assert (
        f"`{name}` is a Vertex AI option; this tunebot tunes with the Gemini API (legacy), which does "
        "not take it."
    ) in answer
    assert stack.emulator is not None and stack.emulator.emulator.model_ids() == []


# ---- the emulator checks hyperparameters as Vertex does ---------------------------------------


@pytest.mark.parametrize(
    ("epochs", "multiplier", "adapter", "expected"),
    [
        (None, None, "ADAPTER_SIZE_SIXTEEN", "The adapter size is not supported for this base model."),
        (101, None, None, "epoch_count must be between 1 and 100, got 101."),
        (None, -0.5, None, "learning_rate_multiplier must be positive, got -0.5."),
    ],
)
async def test_the_emulator_refuses_hyperparameters_as_vertex_does(
    vertex_stack: OfflineStack,
    epochs: int | None,
    multiplier: float | None,
    adapter: str | None,
    expected: str,
) -> None:
    assert vertex_stack.runtime is not None and vertex_stack.emulator is not None
    client = vertex_stack.runtime.ctx.backend.client  # type: ignore[attr-defined]
    uri = await client.upload(
        OFFLINE_VERTEX_BUCKET,
        "x.jsonl",
        b'{"contents": [{"role": "user", "parts": [{"text": "a"}]}, '
        b'{"role": "model", "parts": [{"text": "b"}]}]}\n',
        "application/jsonl",
    )
    with pytest.raises(VertexAPIError) as caught:
        await client.create_tuning_job(
            base_model="gemini-2.5-pro",
            training_uri=uri,
            display_name="x",
            epoch_count=epochs,
            learning_rate_multiplier=multiplier,
            adapter_size=adapter,
        )
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert expected in caught.value.message
    assert emulated_jobs(vertex_stack) == []


# ---- what the job message shows, from the stored job ------------------------------------------


def details_line(job: TuningJob) -> str:
    view = job_view(job, datetime(2026, 12, 3, 12, 0, tzinfo=UTC))
    _, blocks = progress_blocks(view)
    return "\n".join(
        str(element.get("text", "")) for block in blocks for element in block.get("elements", [])
    )


def vertex_row(**fields: object) -> TuningJob:
    values: dict[str, object] = {
        "id": 1, "team_id": "T", "owner_user_id": OWNER, "channel_id": "C", "display_name": "x",
        "base_model": "gemini-2.5-flash", "epoch_count": 0, "batch_size": 0, "learning_rate": 0.0,
        "backend": "vertex",
    }  # fmt: skip
    return TuningJob(**(values | fields))


def test_the_message_shows_what_the_job_says_vertex_received() -> None:
    sent = SentHyperparameters(
        epoch_count=None, learning_rate_multiplier=0.25, adapter_size=16, export_last_checkpoint_only=True
    )
    line = details_line(vertex_row(hyperparameters=sent.to_json()))
    assert (
        "epochs: chosen by Vertex, learning-rate multiplier 0.25, adapter size 16, "
        "export last checkpoint only: yes"
    ) in line
    chosen = SentHyperparameters(epoch_count=7, learning_rate_multiplier=None, adapter_size=None)
    line = details_line(vertex_row(epoch_count=7, hyperparameters=chosen.to_json()))
    assert (
        "7 epochs, learning-rate multiplier: Vertex's default, adapter size: Vertex's default, "
        "export last checkpoint only: no"
    ) in line
    assert "learning rate " not in line and "batch size" not in line


def test_a_vertex_job_stored_before_hyperparameters_were_kept_shows_what_it_showed() -> None:
    line = details_line(vertex_row(epoch_count=5, batch_size=2, learning_rate=0.0005))
    # what tunebot sent then: learning_rate / 0.001 as the multiplier
    assert "5 epochs, learning-rate multiplier 0.5" in line
    assert "batch size" not in line and "learning rate " not in line
