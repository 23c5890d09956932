"""The tutorial's whole flow, through GeminiClient, against the emulator on loopback."""

from __future__ import annotations

from typing import Any

import pytest

from bot.gemini import GeminiAPIError, GeminiClient, Operation, TuningExample
from standins.emulator.running import RunningEmulator

BASE_MODEL = "models/gemini-1.5-flash-001-tuning"
TUTORIAL_EXAMPLES = [
    TuningExample(i, o)
    for i, o in [
        ("1", "2"),
        ("3", "4"),
        ("-3", "-2"),
        ("twenty two", "twenty three"),
        ("two hundred", "two hundred one"),
        ("ninety nine", "one hundred"),
        ("8", "9"),
        ("-98", "-97"),
        ("1,000", "1,001"),
        ("10,100,000", "10,100,001"),
        ("thirteen", "fourteen"),
        ("eighty", "eighty one"),
        ("one", "two"),
        ("three", "four"),
        ("seven", "eight"),
    ]
]


async def create_tutorial_model(client: GeminiClient, **overrides: Any) -> Operation:
    args: dict[str, Any] = {
        "display_name": "number generator model",
        "base_model": BASE_MODEL,
        "examples": TUTORIAL_EXAMPLES,
        "epoch_count": 5,
        "batch_size": 2,
        "learning_rate": 0.001,
    }
    args.update(overrides)
    return await client.create_tuned_model(**args)


async def test_tutorial_flow(emulator: RunningEmulator, gemini_client: GeminiClient) -> None:
    before = await gemini_client.list_tuned_models(page_size=5)
    assert before.tuned_models == [] and before.next_page_token is None

    operation = await create_tutorial_model(gemini_client)
    meta = operation.metadata
    assert meta is not None and meta.total_steps == 38  # ceil(15 * 5 / 2)
    assert not operation.done and meta.completed_steps == 0
    model_name = meta.tuned_model
    assert model_name is not None and model_name.startswith("tunedModels/number-generator-model-")
    assert operation.name.startswith(model_name + "/operations/")

    listed = await gemini_client.list_tuned_models()
    assert [(m.name, m.state) for m in listed.tuned_models] == [(model_name, "CREATING")]

    percents: list[float] = []
    while not operation.done:  # the tutorial polls every 5 seconds
        emulator.advance(5)
        operation = await gemini_client.get_operation(operation.name)
        assert operation.metadata is not None
        percents.append(operation.metadata.completed_percent)
    assert percents == sorted(percents) and percents[-1] == 100.0
    assert len(percents) == 8  # 38 steps of 1 s each, polled every 5 s
    assert operation.error is None
    assert operation.response is not None and operation.response.state == "ACTIVE"
    assert operation.metadata is not None
    snapshots = operation.metadata.snapshots
    assert [s.step for s in snapshots] == list(range(1, 39))
    assert snapshots[0].epoch == 0 and snapshots[-1].epoch == 4
    assert snapshots[0].mean_loss is not None and snapshots[-1].mean_loss is not None
    assert snapshots[-1].mean_loss < snapshots[0].mean_loss / 10

    model = await gemini_client.get_tuned_model(model_name)
    assert model.state == "ACTIVE" and model.display_name == "number generator model"
    assert model.base_model == BASE_MODEL and model.create_time is not None
    assert model.tuning_task is not None and model.tuning_task.hyperparameters is not None
    assert model.tuning_task.hyperparameters.epoch_count == 5
    assert model.tuning_task.complete_time is not None

    answer = await gemini_client.generate_content(model_name, "55")
    assert answer.text == "56"
    assert (await gemini_client.generate_content(model_name, "seven")).text == "eight"
    assert answer.candidates[0].finish_reason == "STOP" and answer.candidates[0].role == "model"
    assert answer.usage_metadata is not None and answer.usage_metadata.total_token_count >= 2

    await gemini_client.delete_tuned_model(model_name)
    after = await gemini_client.list_tuned_models()
    assert model_name not in [m.name for m in after.tuned_models]
    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.get_tuned_model(model_name)
    assert caught.value.is_not_found


async def test_generate_while_tuning_is_refused(
    emulator: RunningEmulator, gemini_client: GeminiClient
) -> None:
    operation = await create_tutorial_model(gemini_client)
    assert operation.metadata is not None and operation.metadata.tuned_model is not None
    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.generate_content(operation.metadata.tuned_model, "55")
    assert caught.value.code == 400 and caught.value.status == "FAILED_PRECONDITION"
    assert "CREATING" in caught.value.message and not caught.value.is_retryable


async def test_injected_failure_ends_the_job_failed(
    emulator: RunningEmulator, gemini_client: GeminiClient
) -> None:
    emulator.emulator.update_faults({"fail_models": ["doomed-*"]})
    operation = await create_tutorial_model(
        gemini_client, display_name="doomed", tuned_model_id="doomed-model"
    )
    emulator.emulator.finish_all()
    operation = await gemini_client.get_operation(operation.name)
    assert operation.done and operation.response is None
    assert operation.error is not None and operation.error.code == 13
    assert "failed at step 19 of 38" in operation.error.message
    assert operation.metadata is not None and operation.metadata.completed_steps == 19
    model = await gemini_client.get_tuned_model("doomed-model")
    assert model.state == "FAILED"
    with pytest.raises(GeminiAPIError) as caught:
        await gemini_client.generate_content("doomed-model", "1")
    assert caught.value.status == "FAILED_PRECONDITION"
