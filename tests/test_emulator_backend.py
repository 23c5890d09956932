"""GeminiBackend (bot.backends) over GeminiClient against the emulator: the consumer's contract holds."""

from __future__ import annotations

import argparse

from bot.backends.gemini_backend import GeminiBackend
from bot.domain.types import JobState, ModelState, TrainingExample, TuningRequest
from bot.gemini import GeminiClient
from standins.emulator.running import RunningEmulator
from standins.emulator.server import add_arguments, config_from_args


async def test_backend_round_trip(emulator: RunningEmulator, gemini_client: GeminiClient) -> None:
    backend = GeminiBackend(gemini_client)
    model_id = backend.new_model_id("Next number")
    request = TuningRequest(
        display_name="Next number",
        base_model=backend.default_base_model,
        examples=[
            TrainingExample("1", "2"),
            TrainingExample("seven", "eight"),
            TrainingExample("-98", "-97"),
        ],
        epoch_count=4,
        batch_size=2,
        learning_rate=0.001,
        model_id=model_id,
    )
    started = await backend.start(request)
    assert started.model_name == f"tunedModels/{model_id}" and started.total_steps == 6
    assert (await backend.poll(started.operation_name)).state == JobState.QUEUED
    emulator.advance(3)
    running = await backend.poll(started.operation_name)
    assert running.state == JobState.RUNNING and running.completed_steps == 3 and running.percent == 50.0
    assert [p.step for p in running.loss_points] == [1, 2, 3] and running.epoch == 1
    assert (await backend.get_model(started.model_name)).state == ModelState.TUNING
    emulator.advance(3)
    done = await backend.poll(started.operation_name)
    assert done.state == JobState.SUCCEEDED and done.percent == 100.0
    assert await backend.generate(started.model_name, "41") == "42"
    page = await backend.list_models(page_size=5)
    assert [(m.name, m.state) for m in page.models] == [(started.model_name, ModelState.READY)]
    assert page.models[0].created_at is not None
    await backend.delete_model(started.model_name)
    assert (await backend.list_models(page_size=5)).models == []


def test_cli_arguments_build_the_config() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--port",
            "9999",
            "--step-seconds",
            "0.5",
            "--rate-429",
            "0.1",
            "--fail-model",
            "a",
            "--fail-model",
            "b*",
        ]
    )
    config = config_from_args(args)
    assert args.host == "127.0.0.1" and args.port == 9999
    assert config.step_seconds == 0.5 and config.faults.rate_429 == 0.1
    assert config.faults.fail_models == ("a", "b*") and config.state_file is None
