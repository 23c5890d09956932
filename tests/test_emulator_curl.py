"""The tutorial's own REST requests, sent as the tutorial sends them, with only the host changed.

Snake_case bodies (with the tutorial's trailing commas), `?key=` in the URL, operations
read on `/v1/`, the first list with OAuth headers. One test runs the real `curl` binary.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

from standins.emulator.running import RunningEmulator

KEY = "tutorial-key"

# Verbatim from the tutorial (trailing commas included: Google's JSON parser accepts them).
CREATE_BODY = """
{
"display_name": "number generator model",
"base_model": "models/gemini-1.5-flash-001-tuning",
"tuning_task": {
"hyperparameters": {
"batch_size": 2,
"learning_rate": 0.001,
"epoch_count":5,
},
"training_data": {
"examples": {
"examples": [
{
"text_input": "1",
"output": "2",
},{
"text_input": "3",
"output": "4",
},{
"text_input": "-3",
"output": "-2",
},{
"text_input": "twenty two",
"output": "twenty three",
},{
"text_input": "two hundred",
"output": "two hundred one",
},{
"text_input": "ninety nine",
"output": "one hundred",
},{
"text_input": "8",
"output": "9",
},{
"text_input": "-98",
"output": "-97",
},{
"text_input": "1,000",
"output": "1,001",
},{
"text_input": "10,100,000",
"output": "10,100,001",
},{
"text_input": "thirteen",
"output": "fourteen",
},{
"text_input": "eighty",
"output": "eighty one",
},{
"text_input": "one",
"output": "two",
},{
"text_input": "three",
"output": "four",
},{
"text_input": "seven",
"output": "eight",
}
]
}
}
}
}"""

GENERATE_BODY = """{
"contents": [{
"parts": [{
"text": "LXIII"
}]
}]
}"""

JSON_HEADERS = {"Content-Type": "application/json"}


def test_tutorial_requests_verbatim(emulator: RunningEmulator) -> None:
    base = emulator.url
    with httpx.Client() as http:
        # List, as the tutorial's first request does it: OAuth headers, snake_case page_size.
        listed = http.get(
            f"{base}/v1beta/tunedModels?page_size=5",
            headers={
                **JSON_HEADERS,
                "Authorization": "Bearer ya29.token",
                "x-goog-user-project": "my-project",
            },
        )
        assert listed.status_code == 200 and listed.json() == {}  # proto3 JSON: no models, no field

        created = http.post(f"{base}/v1beta/tunedModels?key={KEY}", headers=JSON_HEADERS, content=CREATE_BODY)
        assert created.status_code == 200, created.text
        tunemodel = created.json()
        operation = tunemodel["name"]
        assert tunemodel["metadata"]["@type"] == (
            "type.googleapis.com/google.ai.generativelanguage.v1beta.CreateTunedModelMetadata"
        )
        assert tunemodel["metadata"]["totalSteps"] == 38
        assert "done" not in tunemodel
        modelname = tunemodel["metadata"]["tunedModel"]

        tuning_done = False
        polls = 0
        while not tuning_done:
            emulator.advance(5)  # `sleep 5`
            polled = http.get(f"{base}/v1/{operation}?key={KEY}", headers=JSON_HEADERS)
            assert polled.status_code == 200, polled.text
            tuning_operation = polled.json()
            assert isinstance(tuning_operation["metadata"]["completedPercent"], float)
            tuning_done = tuning_operation.get("done") is True
            polls += 1
        assert polls == 8 and tuning_operation["metadata"]["completedPercent"] == 100.0
        assert tuning_operation["response"]["@type"].endswith(".TunedModel")

        tuned_model = http.get(f"{base}/v1beta/{modelname}?key={KEY}", headers=JSON_HEADERS).json()
        assert tuned_model["state"] == "ACTIVE"

        answer = http.post(
            f"{base}/v1beta/{modelname}:generateContent?key={KEY}",
            headers=JSON_HEADERS,
            content=GENERATE_BODY,
        )
        assert answer.status_code == 200
        candidate = answer.json()["candidates"][0]
        assert candidate["content"]["role"] == "model" and candidate["finishReason"] == "STOP"
        assert candidate["content"]["parts"][0]["text"]

        deleted = http.delete(f"{base}/v1beta/{modelname}?key={KEY}", headers=JSON_HEADERS)
        assert deleted.status_code == 200 and deleted.json() == {}
        gone = http.get(f"{base}/v1beta/{modelname}?key={KEY}")
        assert gone.status_code == 404 and gone.json()["error"]["status"] == "NOT_FOUND"


def test_tutorial_second_page_request_loses_its_key(emulator: RunningEmulator) -> None:
    """The tutorial's page-2 URL writes `...&page_token=${page_token}?key=...`: the second `?` makes the
    key part of the page token, so the request has no key. Google (and the emulator) answer 403."""
    for index in range(6):
        body = {
            "display_name": f"m{index}",
            "base_model": "models/gemini-1.5-flash-001-tuning",
            "tuning_task": {
                "training_data": {"examples": {"examples": [{"text_input": "a", "output": "b"}]}}
            },
        }
        assert httpx.post(f"{emulator.url}/v1beta/tunedModels?key={KEY}", json=body).status_code == 200
    first = httpx.get(f"{emulator.url}/v1beta/tunedModels?page_size=5&key={KEY}").json()
    page_token = first["nextPageToken"]
    broken = httpx.get(f"{emulator.url}/v1beta/tunedModels?page_size=5&page_token={page_token}?key={KEY}")
    assert broken.status_code == 403 and broken.json()["error"]["status"] == "PERMISSION_DENIED"
    fixed = httpx.get(f"{emulator.url}/v1beta/tunedModels?page_size=5&page_token={page_token}&key={KEY}")
    assert fixed.status_code == 200 and len(fixed.json()["tunedModels"]) == 1


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_real_curl(emulator: RunningEmulator) -> None:
    def curl(*args: str) -> dict[str, object]:
        done = subprocess.run(
            ["curl", "-sS", "-H", "Content-Type: application/json", *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        result: dict[str, object] = json.loads(done.stdout)
        return result

    tunemodel = curl("-X", "POST", f"{emulator.url}/v1beta/tunedModels?key={KEY}", "-d", CREATE_BODY)
    operation = str(tunemodel["name"])
    emulator.emulator.finish_all()
    tuning_operation = curl("-X", "GET", f"{emulator.url}/v1/{operation}?key={KEY}")
    assert tuning_operation["done"] is True
    metadata = tuning_operation["metadata"]
    assert isinstance(metadata, dict) and metadata["completedPercent"] == 100.0
    modelname = str(metadata["tunedModel"])
    answer = curl(
        "-X", "POST", f"{emulator.url}/v1beta/{modelname}:generateContent?key={KEY}", "-d", GENERATE_BODY
    )
    assert isinstance(answer["candidates"], list) and answer["candidates"]
    assert curl("-X", "DELETE", f"{emulator.url}/v1beta/{modelname}?key={KEY}") == {}
