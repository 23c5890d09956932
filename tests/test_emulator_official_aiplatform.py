"""google-cloud-aiplatform against the emulator over REST on loopback: `vertexai.tuning.sft.train`
(v1beta1) refreshed until done, then the tuned model's cleanup with `aiplatform.Endpoint`
(undeploy_all, delete) and `aiplatform.Model` (get with and without a version, list, delete)
on v1. aiplatform is imported once for the module: the import alone takes seconds."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator

import httpx
import pytest
import vertexai
from google.api_core import exceptions
from google.cloud import aiplatform
from vertexai.tuning import sft

from standins.emulator import EmulatorConfig
from standins.emulator.running import FrozenClock, RunningEmulator, start_emulator
from tests.helpers.google import LOCATION, PROJECT, TOKEN, static_credentials

pytestmark = pytest.mark.usefixtures("offline_google")
BUCKET = "tuning-data"
DATASET = f"gs://{BUCKET}/numbers.jsonl"
PARENT = f"projects/{PROJECT}/locations/{LOCATION}"
BASE_LABEL = "google-vertex-llm-tuning-base-model-id"


@pytest.fixture
def vertex_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(EmulatorConfig(clock=FrozenClock(), step_seconds=1.0)) as running:
        lines = [
            json.dumps(
                {
                    "contents": [
                        {"role": "user", "parts": [{"text": str(n)}]},
                        {"role": "model", "parts": [{"text": str(n + 1)}]},
                    ]
                }
            )
            for n in range(1, 21)
        ]
        running.emulator.storage.insert(BUCKET, "numbers.jsonl", "\n".join(lines).encode())
        vertexai.init(
            project=PROJECT,
            location=LOCATION,
            credentials=static_credentials(),
            api_endpoint=running.url,
            api_transport="rest",
        )
        yield running


def train(display_name: str, **kwargs: object) -> sft.SupervisedTuningJob:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # vertexai.tuning is deprecated in favour of google-genai
        return sft.train(
            source_model="gemini-2.5-flash",
            train_dataset=DATASET,
            tuned_model_display_name=display_name,
            **kwargs,
        )


def endpoint_calls(emulator: RunningEmulator) -> dict[str, int]:
    counts: dict[str, int] = emulator.emulator.stats()["by_method"]
    return {k: v for k, v in counts.items() if k.startswith(("vertex.endpoints.", "vertex.operations."))}


def raw(emulator: RunningEmulator, method: str, path: str) -> httpx.Response:
    return httpx.request(method, emulator.url + path, headers={"authorization": f"Bearer {TOKEN}"}, timeout=5)


def test_sft_train_then_refresh_until_the_job_is_done(vertex_emulator: RunningEmulator) -> None:
    job = train("numbers", epochs=2, adapter_size=4, learning_rate_multiplier=0.5, labels={"team": "ml"})
    assert job.resource_name.startswith(f"{PARENT}/tuningJobs/")
    assert job.state.name == "JOB_STATE_PENDING" and not job.has_ended
    hyper = job._gca_resource.supervised_tuning_spec.hyper_parameters
    # aiplatform sends enums as numbers ($alt=json;enum-encoding=int): 2 is ADAPTER_SIZE_FOUR
    assert hyper.adapter_size.name == "ADAPTER_SIZE_FOUR" and hyper.epoch_count == 2
    refreshes = 0
    while not job.has_ended:
        vertex_emulator.advance(2)
        job.refresh()
        refreshes += 1
    # 1 pending step + 8 running steps (1 preparing the dataset, 6 tuning: 20 examples, 8 a step,
    # 2 epochs, 1 post-processing), 2 s a refresh
    assert refreshes == 5
    assert job.state.name == "JOB_STATE_SUCCEEDED" and job.has_succeeded
    assert job.tuned_model_name == f"{PARENT}/models/{int(job.resource_name.rsplit('/', 1)[1]) + 2}@1"
    assert (
        job.tuned_model_endpoint_name == f"{PARENT}/endpoints/{int(job.resource_name.rsplit('/', 1)[1]) + 1}"
    )
    assert job._gca_resource.end_time.timestamp() > job._gca_resource.start_time.timestamp()
    assert vertex_emulator.emulator.stats()["by_method"]["vertex.tuningJobs.get"] == 5


def test_a_cancelled_sft_job_ends_with_the_cancelled_error(vertex_emulator: RunningEmulator) -> None:
    job = train("to-cancel")
    vertex_emulator.advance(3)
    job.cancel()
    job.refresh()
    assert job.state.name == "JOB_STATE_CANCELLED" and job.has_ended and not job.has_succeeded
    error = job._gca_resource.error
    assert error.code == 1 and error.message == "CANCELLED"
    assert job._gca_resource.end_time.timestamp() == pytest.approx(
        job._gca_resource.create_time.timestamp() + 3
    )


def test_a_failed_sft_job_has_an_end_time(vertex_emulator: RunningEmulator) -> None:
    vertex_emulator.emulator.update_faults({"fail_models": ["doomed"]})
    job = train("doomed")
    vertex_emulator.emulator.finish_all()
    job.refresh()
    assert job.state.name == "JOB_STATE_FAILED" and job._gca_resource.error.code == 3
    assert job._gca_resource.end_time.timestamp() > job._gca_resource.start_time.timestamp()


def test_cleanup_with_aiplatform_endpoint_and_model(vertex_emulator: RunningEmulator) -> None:
    # one epoch: one checkpoint, on the job's own endpoint (no checkpoint endpoint to remove first)
    first, second = train("numbers", labels={"team": "ml"}, epochs=1), train("other")
    vertex_emulator.emulator.finish_all()
    first.refresh()
    second.refresh()
    vertex_emulator.emulator.reset_stats()

    endpoint = aiplatform.Endpoint(first.tuned_model_endpoint_name)
    assert endpoint.display_name == "numbers"  # the first read loads it
    vertex_emulator.emulator.reset_stats()
    assert endpoint.create_time is not None and endpoint.gca_resource.update_time is not None
    assert endpoint.labels == {"team": "ml"} and endpoint.display_name == "numbers"
    assert "vertex.endpoints.get" not in endpoint_calls(vertex_emulator)  # createTime: no re-reads

    [deployed] = endpoint.list_models()
    assert deployed.create_time is not None and deployed.model == first.tuned_model_name.split("@")[0]
    assert endpoint.traffic_split == {deployed.id: 100}
    vertex_emulator.emulator.reset_stats()
    endpoint.undeploy_all()
    calls = endpoint_calls(vertex_emulator)
    assert calls == {"vertex.endpoints.get": 2, "vertex.endpoints.undeployModel": 1}  # the LRO came back done
    assert endpoint.list_models() == []
    endpoint.delete()
    assert endpoint_calls(vertex_emulator)["vertex.endpoints.delete"] == 1
    with pytest.raises(exceptions.NotFound):
        _ = aiplatform.Endpoint(first.tuned_model_endpoint_name).display_name

    model_id = first.tuned_model_name.split("@")[0].rsplit("/", 1)[1]
    versioned = aiplatform.Model(model_id, version="1")
    plain = aiplatform.Model(first.tuned_model_name.split("@")[0])
    for model in (versioned, plain):
        assert model.display_name == "numbers" and model.version_id == "1"
        assert model.labels[BASE_LABEL] == "gemini-2_5-flash" and model.labels["team"] == "ml"
        assert model.create_time is not None and model.update_time is not None
    assert plain._gca_resource.deployed_models == []  # its endpoint was deleted

    tuned = aiplatform.Model.list(filter=f'labels.{BASE_LABEL}="gemini-2_5-flash"')
    assert sorted(m.display_name for m in tuned) == ["numbers", "other"]
    assert [m.display_name for m in aiplatform.Model.list(filter='labels.team="ml"')] == ["numbers"]

    plain.delete()
    with pytest.raises(exceptions.NotFound):
        aiplatform.Model(first.tuned_model_name.split("@")[0])
    assert [m.display_name for m in aiplatform.Model.list()] == ["other"]
    with pytest.raises(exceptions.BadRequest, match="is deployed to"):  # still on its endpoint
        aiplatform.Model(second.tuned_model_name.split("@")[0]).delete()


@pytest.mark.parametrize("version", ["v1", "v1beta1"])
def test_models_list_pages_and_operations_name_the_version_asked_for(
    vertex_emulator: RunningEmulator, version: str
) -> None:
    jobs = [train(f"model-{n}") for n in range(3)]
    vertex_emulator.emulator.finish_all()
    page = raw(vertex_emulator, "GET", f"/{version}/{PARENT}/models?pageSize=2").json()
    assert len(page["models"]) == 2 and page["nextPageToken"]
    rest = raw(
        vertex_emulator, "GET", f"/{version}/{PARENT}/models?pageSize=2&pageToken={page['nextPageToken']}"
    ).json()
    assert len(rest["models"]) == 1 and "nextPageToken" not in rest
    model = rest["models"][0]
    assert set(model) >= {
        "name",
        "versionId",
        "displayName",
        "deployedModels",
        "labels",
        "createTime",
        "updateTime",
    }
    assert "description" not in model  # left out at its default, not ""

    endpoint = jobs[0].resource_name.replace("tuningJobs/", "endpoints/")[:-1] + "1"
    info = raw(vertex_emulator, "GET", f"/{version}/{endpoint}").json()
    undeploy = httpx.post(
        f"{vertex_emulator.url}/{version}/{endpoint}:undeployModel",
        json={"deployedModelId": info["deployedModels"][0]["id"]},
        headers={"authorization": f"Bearer {TOKEN}"},
    ).json()
    expected = {
        "done": True,
        "response": {"@type": f"type.googleapis.com/google.cloud.aiplatform.{version}.UndeployModelResponse"},
    }
    assert {k: undeploy[k] for k in expected} == expected
    assert (
        undeploy["metadata"]["@type"]
        == f"type.googleapis.com/google.cloud.aiplatform.{version}.UndeployModelOperationMetadata"
    )
    assert set(undeploy["metadata"]["genericMetadata"]) == {"createTime", "updateTime"}
    again = raw(vertex_emulator, "GET", f"/{version}/{undeploy['name']}").json()
    assert again["response"] == expected["response"] and again["metadata"] == undeploy["metadata"]
    deleted = raw(vertex_emulator, "DELETE", f"/{version}/{endpoint}").json()
    assert deleted["response"] == {"@type": "type.googleapis.com/google.protobuf.Empty"}
    assert deleted["metadata"]["@type"].endswith(f".{version}.DeleteOperationMetadata")
    assert raw(vertex_emulator, "GET", f"/{version}/{PARENT}/operations/12345").status_code == 404


def test_list_filters_with_has_key_through_aiplatform(vertex_emulator: RunningEmulator) -> None:
    first = train("numbers", labels={"team": "ml"}, epochs=1)
    train("sorted", labels={"team": "ml", "env": "prod"}, epochs=1)
    train("plain", epochs=1)
    vertex_emulator.emulator.finish_all()

    def names(models: list[aiplatform.Model]) -> list[str]:
        return sorted(m.display_name for m in models)

    assert names(aiplatform.Model.list(filter="labels.tune-type:*")) == ["numbers", "plain", "sorted"]
    both = aiplatform.Model.list(filter="labels.team:* AND labels.tune-type:*")
    assert names(both) == ["numbers", "sorted"]
    assert names(aiplatform.Model.list(filter='labels.team:* AND display_name!="numbers"')) == ["sorted"]
    first.refresh()
    model_id = first.tuned_model_name.split("@")[0].rsplit("/", 1)[1]
    assert names(aiplatform.Model.list(filter=f"model={model_id}")) == ["numbers"]
    jobs = sft.SupervisedTuningJob.list(filter='labels.team:* AND labels.env="prod"')
    assert [j._gca_resource.tuned_model_display_name for j in jobs] == ["sorted"]
    with pytest.raises(exceptions.BadRequest, match=r"Unsupported filter: labels\.team:ml"):
        aiplatform.Model.list(filter="labels.team:ml")


def test_each_endpoint_of_a_job_is_gone_once_deleted_through_aiplatform(
    vertex_emulator: RunningEmulator,
) -> None:
    # three epochs: two checkpoints with an endpoint each, the last on the job's own endpoint
    first, second = train("numbers", epochs=3), train("other", epochs=2)
    vertex_emulator.emulator.finish_all()
    first.refresh()
    second.refresh()
    own = first.tuned_model_endpoint_name
    checkpoints = [c.endpoint for c in first._gca_resource.tuned_model.checkpoints]
    others = [second.tuned_model_endpoint_name] + [
        c.endpoint for c in second._gca_resource.tuned_model.checkpoints
    ]
    assert checkpoints[-1] == own and len(set(checkpoints)) == 3
    assert not set(checkpoints) & set(others)
    model_name = first.tuned_model_name.split("@")[0]

    for name in [*checkpoints[:-1], own]:
        endpoint = aiplatform.Endpoint(name)
        [deployed] = endpoint.list_models()
        assert deployed.model == model_name
        with pytest.raises(exceptions.BadRequest, match="is deployed to"):
            aiplatform.Model(model_name).delete()
        endpoint.undeploy_all()
        endpoint.delete()
        vertex_emulator.emulator.reset_stats()
        again = aiplatform.Endpoint(name)  # aiplatform 2.x reads nothing until it is asked for
        assert "vertex.endpoints.get" not in endpoint_calls(vertex_emulator)
        with pytest.raises(exceptions.NotFound):
            _ = again.display_name
        with pytest.raises(exceptions.NotFound):
            aiplatform.Endpoint(name).list_models()

    for name in others:  # the other job's endpoints are untouched
        assert [m.model for m in aiplatform.Endpoint(name).list_models()] == [
            second.tuned_model_name.split("@")[0]
        ]
    model = aiplatform.Model(model_name)
    assert model.display_name == "numbers" and model._gca_resource.deployed_models == []
    model.delete()
    with pytest.raises(exceptions.NotFound):
        aiplatform.Model(model_name)
    assert [m.display_name for m in aiplatform.Model.list()] == ["other"]
