"""The emulator's REST surface directly over HTTP: validation, auth, paging, admin, persistence."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from standins.emulator import EmulatorConfig, FaultConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator

KEY_HEADERS = {"x-goog-api-key": "k"}
BASE_MODEL = "models/gemini-1.5-flash-001-tuning"


def body(examples: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "displayName": "number generator model",
        "baseModel": BASE_MODEL,
        "tuningTask": {
            "hyperparameters": {"batchSize": 2, "learningRate": 0.001, "epochCount": 5},
            "trainingData": {"examples": {"examples": examples or [{"textInput": "1", "output": "2"}]}},
        },
    }
    out.update(extra)
    return out


@pytest.fixture
def http(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, headers=KEY_HEADERS) as client:
        yield client


def error_of(response: httpx.Response, code: int, status: str) -> str:
    assert response.status_code == code, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["status"] == status
    message: str = error["message"]
    return message


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            body([]) | {"tuningTask": {"trainingData": {"examples": {"examples": []}}}},
            "needs at least one example",
        ),
        (body([{"textInput": "", "output": "2"}]), "Example 0 has an empty text_input."),
        (
            body([{"textInput": "1", "output": "2"}, {"textInput": "1", "output": " "}]),
            "Example 1 has an empty output.",
        ),
        (
            body([{"textInput": "x" * 40_001, "output": "2"}]),
            "text_input is 40,001 characters long; the limit is 40,000",
        ),
        (
            body([{"textInput": "1", "output": "y" * 5_001}]),
            "output is 5,001 characters long; the limit is 5,000",
        ),
        (body(baseModel="models/gemini-9-ultra"), "Base model models/gemini-9-ultra is not found."),
        (body(baseModel="models/gemini-1.5-flash-001"), "does not support tuning"),
        (body(displayName="n" * 41), "display_name is 41 characters long; the limit is 40."),
    ],
)
def test_create_validation(http: httpx.Client, payload: dict[str, Any], expected: str) -> None:
    message = error_of(http.post("/v1beta/tunedModels", json=payload), 400, "INVALID_ARGUMENT")
    assert expected in message
    assert http.get("/v1beta/tunedModels").json() == {}  # nothing was created


@pytest.mark.parametrize(
    ("hyper", "expected"),
    [
        ({"epochCount": 0}, "epoch_count must be positive, got 0."),
        ({"batchSize": -1}, "batch_size must be positive, got -1."),
        ({"learningRate": 0}, "learning_rate must be positive"),
        ({"learningRateMultiplier": -2}, "learning_rate_multiplier must be positive"),
        (
            {"learningRate": 0.001, "learningRateMultiplier": 1.0},
            "Only one of learning_rate and learning_rate_multiplier",
        ),
        (
            {"epochCount": "five"},
            "Invalid value at 'tuned_model.tuning_task.hyperparameters.epoch_count' (TYPE_INT32), \"five\"",
        ),
    ],
)
def test_bad_hyperparameters(http: httpx.Client, hyper: dict[str, Any], expected: str) -> None:
    payload = body()
    payload["tuningTask"]["hyperparameters"] = hyper
    message = error_of(http.post("/v1beta/tunedModels", json=payload), 400, "INVALID_ARGUMENT")
    assert expected in message


def test_unknown_fields_are_rejected_like_google(http: httpx.Client) -> None:
    message = error_of(http.post("/v1beta/tunedModels", json=body(foo=1)), 400, "INVALID_ARGUMENT")
    assert (
        message == "Invalid JSON payload received. Unknown name \"foo\" at 'tuned_model': Cannot find field."
    )
    nested = body()
    nested["tuningTask"]["trainingData"]["examples"]["examples"][0]["input"] = "1"
    message = error_of(http.post("/v1beta/tunedModels", json=nested), 400, "INVALID_ARGUMENT")
    assert message == (
        'Invalid JSON payload received. Unknown name "input" at '
        "'tuned_model.tuning_task.training_data.examples.examples[0]': Cannot find field."
    )
    message = error_of(http.get("/v1beta/tunedModels", params={"size": 3}), 400, "INVALID_ARGUMENT")
    assert 'Unknown name "size": Cannot bind query parameter' in message
    message = error_of(http.post("/v1beta/tunedModels", content=b"{not json"), 400, "INVALID_ARGUMENT")
    assert message.startswith("Invalid JSON payload received.")


def test_snake_and_camel_case_are_both_accepted(http: httpx.Client) -> None:
    snake = {
        "display_name": "snake",
        "base_model": BASE_MODEL,
        "top_k": 10,
        "tuning_task": {
            "hyperparameters": {"batch_size": 1, "learning_rate_multiplier": 1.5, "epoch_count": "3"},
            "training_data": {"examples": {"examples": [{"text_input": "a", "output": "b"}]}},
        },
    }
    operation = http.post("/v1beta/tunedModels", json=snake).json()
    assert operation["metadata"]["totalSteps"] == 3
    model = http.get(f"/v1beta/{operation['metadata']['tunedModel']}").json()
    assert model["displayName"] == "snake" and model["topK"] == 10
    assert model["tuningTask"]["hyperparameters"] == {
        "learningRateMultiplier": 1.5,
        "epochCount": 3,
        "batchSize": 1,
    }
    assert set(model) >= {"name", "baseModel", "state", "createTime", "updateTime", "temperature", "topP"}


def test_tuned_model_ids(http: httpx.Client) -> None:
    auto = http.post("/v1beta/tunedModels", json=body()).json()["metadata"]["tunedModel"]
    assert auto.startswith("tunedModels/number-generator-model-") and len(auto) <= len("tunedModels/") + 40
    chosen = http.post("/v1beta/tunedModels", params={"tunedModelId": "my-model-1"}, json=body())
    assert chosen.json()["metadata"]["tunedModel"] == "tunedModels/my-model-1"
    again = http.post("/v1beta/tunedModels", params={"tuned_model_id": "my-model-1"}, json=body())
    assert "already exists" in error_of(again, 409, "ALREADY_EXISTS")
    for bad in ("1abc", "Upper", "ends-", "a" * 41, "under_score"):
        response = http.post("/v1beta/tunedModels", params={"tunedModelId": bad}, json=body())
        assert "tuned_model_id" in error_of(response, 400, "INVALID_ARGUMENT")


# -- auth ------------------------------------------------------------------------------------------


def test_auth(emulator: RunningEmulator) -> None:
    url = f"{emulator.url}/v1beta/tunedModels"
    message = error_of(httpx.get(url), 403, "PERMISSION_DENIED")
    assert message.startswith("Method doesn't allow unregistered callers")
    error_of(httpx.get(url, params={"key": ""}), 403, "PERMISSION_DENIED")
    error_of(httpx.get(url, headers={"Authorization": "Bearer"}), 401, "UNAUTHENTICATED")
    error_of(httpx.get(url, headers={"Authorization": "Basic dXNlcg=="}), 401, "UNAUTHENTICATED")
    assert httpx.get(url, params={"key": "anything"}).status_code == 200
    assert httpx.get(url, headers={"x-goog-api-key": "anything"}).status_code == 200
    assert (
        httpx.get(url, headers={"Authorization": "Bearer t", "x-goog-user-project": "p"}).status_code == 200
    )


def test_configured_api_keys(emulator_clock: FrozenClock) -> None:
    with start_emulator(EmulatorConfig(clock=emulator_clock, api_keys=frozenset({"good"}))) as running:
        url = f"{running.url}/v1beta/tunedModels"
        assert httpx.get(url, headers={"x-goog-api-key": "good"}).status_code == 200
        response = httpx.get(url, headers={"x-goog-api-key": "bad"})
        assert (
            error_of(response, 400, "INVALID_ARGUMENT") == "API key not valid. Please pass a valid API key."
        )
        assert response.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


# -- resources -------------------------------------------------------------------------------------


def test_list_paging_limits(http: httpx.Client) -> None:
    for index in range(3):
        http.post("/v1beta/tunedModels", json=body(displayName=f"m{index}"))
    page = http.get("/v1beta/tunedModels", params={"pageSize": 5000}).json()
    assert len(page["tunedModels"]) == 3 and "nextPageToken" not in page
    first = http.get("/v1beta/tunedModels", params={"pageSize": 2}).json()
    second = http.get(
        "/v1beta/tunedModels", params={"pageSize": 2, "pageToken": first["nextPageToken"]}
    ).json()
    assert [m["displayName"] for m in first["tunedModels"] + second["tunedModels"]] == ["m0", "m1", "m2"]
    response = http.get("/v1beta/tunedModels", params={"pageToken": first["nextPageToken"], "filter": "m1"})
    assert "different list request" in error_of(response, 400, "INVALID_ARGUMENT")
    error_of(http.get("/v1beta/tunedModels", params={"pageToken": "%%%"}), 400, "INVALID_ARGUMENT")
    error_of(http.get("/v1beta/tunedModels", params={"pageSize": -1}), 400, "INVALID_ARGUMENT")


def test_operations_on_v1_and_v1beta(emulator: RunningEmulator, http: httpx.Client) -> None:
    two = [{"textInput": "1", "output": "2"}, {"textInput": "3", "output": "4"}]
    operation = http.post("/v1beta/tunedModels", json=body(two)).json()
    model = operation["metadata"]["tunedModel"]
    emulator.advance(1)
    v1 = http.get(f"/v1/{operation['name']}").json()
    assert v1 == http.get(f"/v1beta/{operation['name']}").json()
    assert v1["metadata"]["completedSteps"] == 1 and v1["metadata"]["totalSteps"] == 5
    assert v1["metadata"]["snapshots"][0]["step"] == 1 and "epoch" not in v1["metadata"]["snapshots"][0]
    listed = http.get(f"/v1/{model}/operations").json()
    assert [op["name"] for op in listed["operations"]] == [operation["name"]]
    error_of(http.get(f"/v1/{model}/operations/nope"), 404, "NOT_FOUND")
    error_of(http.get(f"/v1/{model}"), 404, "NOT_FOUND")  # tunedModels.get is served on v1beta


def test_generate_content_response_shape(emulator: RunningEmulator, http: httpx.Client) -> None:
    examples = [{"textInput": "일", "output": "이"}, {"textInput": "1", "output": "2"}]
    model = http.post("/v1beta/tunedModels", json=body(examples)).json()["metadata"]["tunedModel"]
    emulator.emulator.finish_all()
    response = http.post(f"/v1beta/{model}:generateContent", json={"contents": [{"parts": [{"text": "일"}]}]})
    data = response.json()
    assert data["candidates"][0]["content"] == {"parts": [{"text": "이"}], "role": "model"}
    assert data["candidates"][0]["index"] == 0 and data["candidates"][0]["finishReason"] == "STOP"
    usage = data["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert data["modelVersion"]
    missing = http.post(f"/v1beta/{model}:generateContent", json={"contents": []})
    assert "contents is not specified" in error_of(missing, 400, "INVALID_ARGUMENT")
    unknown = http.post(
        "/v1beta/tunedModels/nope:generateContent", json={"contents": [{"parts": [{"text": "1"}]}]}
    )
    error_of(unknown, 404, "NOT_FOUND")


def test_patch_and_delete(http: httpx.Client) -> None:
    model = http.post("/v1beta/tunedModels", json=body()).json()["metadata"]["tunedModel"]
    patched = http.patch(
        f"/v1beta/{model}",
        params={"updateMask": "displayName,description"},
        json={"displayName": "new", "description": "d"},
    ).json()
    assert patched["displayName"] == "new" and patched["description"] == "d"
    bad = http.patch(f"/v1beta/{model}", params={"updateMask": "baseModel"}, json={"baseModel": BASE_MODEL})
    assert "update_mask" in error_of(bad, 400, "INVALID_ARGUMENT")
    assert http.delete(f"/v1beta/{model}").json() == {}
    error_of(http.delete(f"/v1beta/{model}"), 404, "NOT_FOUND")


def test_base_models(http: httpx.Client) -> None:
    names = [m["name"] for m in http.get("/v1beta/models").json()["models"]]
    assert {"models/gemini-1.5-flash-001-tuning", "models/gemini-1.0-pro-001"} <= set(names)
    model = http.get("/v1beta/models/gemini-1.5-flash-001-tuning").json()
    assert "createTunedModel" in model["supportedGenerationMethods"]
    error_of(http.get("/v1beta/models/nope"), 404, "NOT_FOUND")


# -- admin, faults, persistence --------------------------------------------------------------------


def test_admin_endpoints(emulator: RunningEmulator, http: httpx.Client) -> None:
    faults = http.post("/_emulator/faults", json={"rate_503": 1.0, "fail_models": ["x"]}).json()
    assert faults["rate_503"] == 1.0 and faults["fail_models"] == ["x"]
    error_of(http.get("/v1beta/tunedModels"), 503, "UNAVAILABLE")
    assert http.post("/_emulator/faults", json={"rate_503": 2}).status_code == 400
    assert http.post("/_emulator/faults", json={"nope": 1}).status_code == 400
    http.post("/_emulator/faults", json={"rate_503": 0})
    operation = http.post("/v1beta/tunedModels", json=body()).json()
    before = emulator.emulator.now()
    assert http.post("/_emulator/advance", json={"seconds": 10}).json()["now_seconds"] == before + 10
    assert http.get(f"/v1/{operation['name']}").json()["done"] is True
    stats = http.get("/_emulator/stats").json()
    assert stats["operations_get"] == {operation["name"]: 1}
    assert stats["by_method"]["tunedModels.list"] == 1 and stats["faults"] == {"503": 1}
    assert http.delete("/_emulator/stats").json()["total"] == 0
    http.post("/_emulator/reset")
    assert http.get("/v1beta/tunedModels").json() == {}
    assert http.get("/_emulator/faults").json()["fail_models"] == []


def test_latency_and_429_retry_after(emulator_clock: FrozenClock) -> None:
    faults = FaultConfig(latency_seconds=0.2, rate_429=1.0, retry_after_seconds=7)
    with start_emulator(EmulatorConfig(clock=emulator_clock, faults=faults)) as running:
        started = time.monotonic()
        response = httpx.get(f"{running.url}/v1beta/tunedModels", headers=KEY_HEADERS)
        assert time.monotonic() - started >= 0.2
        error_of(response, 429, "RESOURCE_EXHAUSTED")
        assert response.headers["retry-after"] == "7"
        assert response.json()["error"]["details"][0]["retryDelay"] == "7s"


def test_state_file_survives_a_restart(tmp_path: Path, emulator_clock: FrozenClock) -> None:
    state = tmp_path / "state" / "emulator.json"
    config = EmulatorConfig(clock=emulator_clock, state_file=state)
    with start_emulator(config) as first:
        operation = httpx.post(f"{first.url}/v1beta/tunedModels", headers=KEY_HEADERS, json=body()).json()
        first.advance(1)
    saved = json.loads(state.read_text())
    assert len(saved["models"]) == 1 and not list(state.parent.glob("*.tmp"))
    with start_emulator(config) as second:
        again = httpx.get(f"{second.url}/v1/{operation['name']}", headers=KEY_HEADERS).json()
        assert again["metadata"]["completedSteps"] == 1
        second.emulator.finish_all()
        model = httpx.get(f"{second.url}/v1beta/{operation['metadata']['tunedModel']}", headers=KEY_HEADERS)
        assert model.json()["state"] == "ACTIVE"
