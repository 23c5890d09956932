"""google-genai in Vertex AI mode against the emulator, over HTTP on loopback: a whole tuning
flow (tune, get, list, cancel, generate_content on the tuned endpoint) on the SDK's default
API version (v1beta1) and on v1."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest
from google import genai
from google.genai import errors, types

from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator
from tests.helpers.google import LOCATION, PROJECT, TOKEN, static_credentials

pytestmark = pytest.mark.usefixtures("offline_google")
BUCKET = "tuning-data"
DATASET = f"gs://{BUCKET}/numbers.jsonl"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"


def jsonl(pairs: list[tuple[str, str]]) -> bytes:
    lines = [
        json.dumps(
            {
                "contents": [
                    {"role": "user", "parts": [{"text": q}]},
                    {"role": "model", "parts": [{"text": a}]},
                ]
            }
        )
        for q, a in pairs
    ]
    return "\n".join(lines).encode()


@pytest.fixture
def vertex_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(clock=FrozenClock(), step_seconds=1.0)) as running:
        running.emulator.storage.insert(
            BUCKET, "numbers.jsonl", jsonl([(str(n), str(n + 1)) for n in range(1, 21)])
        )
        yield running


def vertex_client(emulator: RunningEmulator, api_version: str | None) -> genai.Client:
    options = types.HttpOptions(base_url=emulator.url, api_version=api_version)
    return genai.Client(
        vertexai=True,
        project=PROJECT,
        location=LOCATION,
        credentials=static_credentials(),
        http_options=options,
    )


@pytest.mark.parametrize("api_version", [None, "v1"], ids=["sdk default v1beta1", "v1"])
def test_a_whole_tuning_flow_through_google_genai(
    vertex_emulator: RunningEmulator, api_version: str | None
) -> None:
    client = vertex_client(vertex_emulator, api_version)
    config = types.CreateTuningJobConfig(
        epoch_count=2,
        learning_rate_multiplier=0.5,
        adapter_size="ADAPTER_SIZE_FOUR",
        tuned_model_display_name="numbers",
        labels={"team": "ml"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the SDK's tuning implementation is experimental"
        job = client.tunings.tune(
            base_model="gemini-2.5-flash",
            training_dataset=types.TuningDataset(gcs_uri=DATASET),
            config=config,
        )
    assert job.name is not None and job.name.startswith(f"{PARENT}/tuningJobs/")
    assert job.state == types.JobState.JOB_STATE_PENDING
    assert job.supervised_tuning_spec is not None and job.supervised_tuning_spec.hyper_parameters is not None
    hyper = job.supervised_tuning_spec.hyper_parameters
    assert hyper.epoch_count == 2 and hyper.adapter_size == types.AdapterSize.ADAPTER_SIZE_FOUR
    assert hyper.learning_rate_multiplier == 0.5
    assert job.tuned_model_display_name == "numbers" and job.labels == {"team": "ml"}

    vertex_emulator.advance(2)
    running = client.tunings.get(name=job.name)
    assert running.state == types.JobState.JOB_STATE_RUNNING and running.start_time is not None
    assert running.end_time is None
    assert [j.name for j in client.tunings.list()] == [job.name]

    vertex_emulator.emulator.finish_all()
    done = client.tunings.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.has_ended and done.has_succeeded
    assert done.end_time is not None and done.start_time is not None and done.end_time > done.start_time
    assert done.tuned_model is not None and done.tuned_model.endpoint is not None
    assert done.tuned_model.model == f"{PARENT}/models/{job.name.rsplit('/', 1)[1][:-1]}2@1"

    answer = client.models.generate_content(model=done.tuned_model.endpoint, contents="41")
    assert answer.text == "42"  # the nearest example 1 -> 2, its step applied

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second = client.tunings.tune(
            base_model="gemini-2.5-flash", training_dataset=types.TuningDataset(gcs_uri=DATASET)
        )
    assert second.name is not None
    client.tunings.cancel(name=second.name)
    cancelled = client.tunings.get(name=second.name)
    assert cancelled.state == types.JobState.JOB_STATE_CANCELLED and cancelled.has_ended
    assert cancelled.end_time is not None
    assert (
        cancelled.error is not None and cancelled.error.code == 1 and cancelled.error.message == "CANCELLED"
    )
    assert cancelled.tuned_model_display_name is None  # left out, not ""
    listed = list(client.tunings.list(config=types.ListTuningJobsConfig(page_size=1)))
    assert {j.name for j in listed} == {job.name, second.name}  # two pages of one

    stats = vertex_emulator.emulator.stats()
    assert set(stats["by_status"]) == {"200"}


def test_a_rejected_create_surfaces_vertex_s_error_through_google_genai(
    vertex_emulator: RunningEmulator,
) -> None:
    client = vertex_client(vertex_emulator, None)
    with warnings.catch_warnings(), pytest.raises(errors.ClientError) as caught:
        warnings.simplefilter("ignore")
        client.tunings.tune(
            base_model="gemini-2.5-pro",
            training_dataset=types.TuningDataset(gcs_uri=DATASET),
            config=types.CreateTuningJobConfig(adapter_size="ADAPTER_SIZE_SIXTEEN"),
        )
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert "ADAPTER_SIZE_SIXTEEN is not supported for base model gemini-2.5-pro" in str(caught.value.message)


def raw(emulator: RunningEmulator, method: str, path: str, body: object = None) -> httpx.Response:
    return httpx.request(
        method, emulator.url + path, json=body, headers={"authorization": f"Bearer {TOKEN}"}, timeout=5
    )


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_the_create_body_is_read_as_proto_json(vertex_emulator: RunningEmulator, version: str) -> None:
    path = f"/{version}/{PARENT}/tuningJobs"
    snake = {
        "base_model": "gemini-2.5-flash",
        "tuned_model_display_name": "snake",
        "supervised_tuning_spec": {
            "training_dataset_uri": DATASET,
            "hyper_parameters": {"epoch_count": "4", "adapter_size": 2, "learning_rate_multiplier": "0.5"},
        },
    }
    created = raw(vertex_emulator, "POST", path, snake)
    assert created.status_code == 200, created.text
    hyper = created.json()["supervisedTuningSpec"]["hyperParameters"]
    # adapterSize 2 is ADAPTER_SIZE_FOUR (not TWO, which is 6); int64 comes back as a string
    assert hyper == {"epochCount": "4", "learningRateMultiplier": 0.5, "adapterSize": "ADAPTER_SIZE_FOUR"}
    assert created.json()["tuningDataStats"]["supervisedTuningDataStats"]["tuningStepCount"] == "12"

    unknown = {
        "baseModel": "gemini-2.5-flash",
        "supervisedTuningSpec": {"trainingDatasetUri": DATASET, "hyperParameters": {"epochs": 7}},
    }
    refused = raw(vertex_emulator, "POST", path, unknown)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    assert error["message"] == (
        'Invalid JSON payload received. Unknown name "epochs" at '
        "'tuning_job.supervised_tuning_spec.hyper_parameters': Cannot find field."
    )
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert len(vertex_emulator.emulator.vertex.job_ids()) == 1  # nothing made of the refused one

    bad_enum = raw(
        vertex_emulator,
        "POST",
        path,
        {
            **snake,
            "supervised_tuning_spec": {
                "training_dataset_uri": DATASET,
                "hyper_parameters": {"adapter_size": "ADAPTER_SIZE_FIVE"},
            },
        },
    )
    assert bad_enum.status_code == 400
    assert bad_enum.json()["error"]["message"].startswith(
        "Invalid value at 'tuning_job.supervised_tuning_spec.hyper_parameters.adapter_size' "
        f"(type.googleapis.com/google.cloud.aiplatform.{version}.SupervisedHyperParameters.AdapterSize)"
    )


def test_v1_refuses_fields_only_v1beta1_has(vertex_emulator: RunningEmulator) -> None:
    body = {
        "baseModel": "gemini-2.5-flash",
        "outputUri": "gs://x/y",
        "supervisedTuningSpec": {"trainingDatasetUri": DATASET},
    }
    assert raw(vertex_emulator, "POST", f"/v1beta1/{PARENT}/tuningJobs", body).status_code == 200
    refused = raw(vertex_emulator, "POST", f"/v1/{PARENT}/tuningJobs", body)
    assert refused.status_code == 400 and 'Unknown name "outputUri"' in refused.json()["error"]["message"]


def defaults_in(value: object, path: str = "") -> list[str]:
    """Where a JSON value holds what proto3 JSON leaves out: "", [] or {}."""
    if value in ("", [], {}):
        return [path or "(root)"]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in defaults_in(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in defaults_in(v, f"{path}[{i}]")]
    return []


def test_answers_leave_default_values_out(vertex_emulator: RunningEmulator) -> None:
    body = {"baseModel": "gemini-2.5-flash", "supervisedTuningSpec": {"trainingDatasetUri": DATASET}}
    job = raw(vertex_emulator, "POST", f"/v1/{PARENT}/tuningJobs", body).json()
    vertex_emulator.emulator.finish_all()
    job_id = int(job["name"].rsplit("/", 1)[1])
    answers = {
        "job": raw(vertex_emulator, "GET", f"/v1/{job['name']}").json(),
        "jobs": raw(vertex_emulator, "GET", f"/v1/{PARENT}/tuningJobs").json(),
        "endpoint": raw(vertex_emulator, "GET", f"/v1/{PARENT}/endpoints/{job_id + 1}").json(),
        "model": raw(vertex_emulator, "GET", f"/v1/{PARENT}/models/{job_id + 2}@1").json(),
        "models": raw(vertex_emulator, "GET", f"/v1/{PARENT}/models").json(),
    }
    assert {name: defaults_in(answer) for name, answer in answers.items()} == {name: [] for name in answers}
    assert "tunedModelDisplayName" not in answers["job"] and "displayName" not in answers["endpoint"]
    assert "labels" not in answers["job"]  # no labels asked for: none sent, not {}


def tune(client: genai.Client, name: str, labels: dict[str, str] | None = None) -> str:
    config = types.CreateTuningJobConfig(tuned_model_display_name=name, labels=labels, epoch_count=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dataset = types.TuningDataset(gcs_uri=DATASET)
        job = client.tunings.tune(base_model="gemini-2.5-flash", training_dataset=dataset, config=config)
    assert job.name is not None
    return job.name


@pytest.mark.parametrize("api_version", [None, "v1"], ids=["sdk default v1beta1", "v1"])
def test_models_list_of_tuned_models_through_google_genai(
    vertex_emulator: RunningEmulator, api_version: str | None
) -> None:
    # query_base=False: google-genai lists the project's models with filter=labels.tune-type:*
    client = vertex_client(vertex_emulator, api_version)
    first = tune(client, "numbers", {"team": "ml"})
    tune(client, "letters")
    vertex_emulator.emulator.finish_all()
    tune(client, "still tuning")  # no model yet: not listed

    tuned = list(client.models.list(config={"query_base": False}))
    assert [m.display_name for m in tuned] == ["numbers", "letters"]
    numbers = tuned[0]
    assert numbers.name == f"{PARENT}/models/{int(first.rsplit('/', 1)[1]) + 2}"
    assert numbers.labels is not None and numbers.labels["team"] == "ml" and "tune-type" in numbers.labels
    assert numbers.tuned_model_info is not None and numbers.tuned_model_info.base_model == "gemini-2_5-flash"
    job_id = int(first.rsplit("/", 1)[1])
    assert numbers.endpoints and numbers.endpoints[0].name == f"{PARENT}/endpoints/{job_id + 1}"
    pages = client.models.list(config={"query_base": False, "page_size": 1})
    assert [m.display_name for m in pages] == ["numbers", "letters"]  # the filter rides along to page 2

    jobs = client.tunings.list(config={"filter": "labels.team:*"})
    assert [j.name for j in jobs] == [first]
    stats = vertex_emulator.emulator.stats()
    assert stats["by_status"].get("400") is None


VERTEX_FILTERS = [
    ("labels.team:*", ["numbers", "sorted"]),
    ("labels:team", ["numbers", "sorted"]),
    ('labels.team:* AND labels.env="prod"', ["sorted"]),
    ("labels.env=prod AND labels.team:*", ["sorted"]),
    ("labels.team:* AND labels.missing:*", []),
    ('labels.team="ml"', ["numbers", "sorted"]),
    ("", ["numbers", "sorted", "plain"]),
]


@pytest.mark.parametrize(("text", "expected"), VERTEX_FILTERS)
def test_list_filters_on_labels_as_vertex_reads_them(
    vertex_emulator: RunningEmulator, text: str, expected: list[str]
) -> None:
    client = vertex_client(vertex_emulator, "v1")
    tune(client, "numbers", {"team": "ml"})
    tune(client, "sorted", {"team": "ml", "env": "prod"})
    tune(client, "plain")
    vertex_emulator.emulator.finish_all()
    models = raw(vertex_emulator, "GET", f"/v1/{PARENT}/models?{urlencode({'filter': text})}")
    assert models.status_code == 200, models.text
    assert [m["displayName"] for m in models.json().get("models", [])] == expected
    jobs = raw(vertex_emulator, "GET", f"/v1/{PARENT}/tuningJobs?{urlencode({'filter': text})}")
    assert jobs.status_code == 200, jobs.text
    assert sorted(j["tunedModelDisplayName"] for j in jobs.json().get("tuningJobs", [])) == sorted(expected)


@pytest.mark.parametrize(
    "text",
    [
        "labels.team:* and labels.env:*",  # the keyword is AND, in capitals
        "labels.team:* OR labels.env:*",
        "NOT labels.team:*",
        "-labels.team:*",
        "(labels.team:*)",
        "labels.team:ml",
        "labels.team:* AND",
        "labels.team",
        'labels.team="ml',
        "state=JOB_STATE_SUCCEEDED",
    ],
)
def test_other_list_filters_are_refused_as_vertex_refuses_them(
    vertex_emulator: RunningEmulator, text: str
) -> None:
    for collection in ("models", "tuningJobs"):
        refused = raw(vertex_emulator, "GET", f"/v1/{PARENT}/{collection}?{urlencode({'filter': text})}")
        assert refused.status_code == 400, (collection, refused.text)
        error = refused.json()["error"]
        assert error["status"] == "INVALID_ARGUMENT" and error["message"].startswith("Unsupported filter: ")
        assert error["details"][0]["fieldViolations"][0]["field"] == "filter"
