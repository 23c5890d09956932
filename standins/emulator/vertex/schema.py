"""Vertex AI request messages (v1 and v1beta1), as `standins.emulator.core.protojson` checks them,
and the `@type` URLs of the messages answered in operations.

Fields Vertex accepts but the emulator does not act on (output-only fields, encryption,
evaluation) are `ANY`; a field neither version knows is refused as Vertex refuses it.
"""

from __future__ import annotations

from functools import cache

from standins.emulator.core.protojson import ANY, Enum, F, Msg

ADAPTER_SIZE_NUMBERS = {
    "ADAPTER_SIZE_UNSPECIFIED": 0,
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 6,
    "ADAPTER_SIZE_FOUR": 2,
    "ADAPTER_SIZE_EIGHT": 3,
    "ADAPTER_SIZE_SIXTEEN": 4,
    "ADAPTER_SIZE_THIRTY_TWO": 5,
}
TUNING_MODE_NUMBERS = {"TUNING_MODE_UNSPECIFIED": 0, "TUNING_MODE_FULL": 1, "TUNING_MODE_PEFT_ADAPTER": 2}
STRING = F("string")
MAP = F("map")


def package(version: str) -> str:
    return f"google.cloud.aiplatform.{version}"


def type_url(version: str, type_name: str) -> str:
    """`type.googleapis.com/google.cloud.aiplatform.{version}.{type_name}`."""
    return f"type.googleapis.com/{package(version)}.{type_name}"


EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"


@cache
def tuning_job(version: str) -> Msg:
    pkg = package(version)
    beta = version == "v1beta1"
    hyper_fields = {
        "epoch_count": F("int64"),
        "learning_rate_multiplier": F("double"),
        "adapter_size": F(
            "enum", enum=Enum("SupervisedHyperParameters.AdapterSize", ADAPTER_SIZE_NUMBERS, pkg)
        ),
    }
    if beta:
        hyper_fields |= {"learning_rate": F("double"), "batch_size": F("int64")}
    hyper = Msg("SupervisedHyperParameters", hyper_fields, pkg)
    spec_fields = {
        "training_dataset_uri": STRING,
        "validation_dataset_uri": STRING,
        "hyper_parameters": F("message", hyper),
        "export_last_checkpoint_only": F("bool"),
        "evaluation_config": ANY,
    }
    if beta:
        spec_fields["tuning_mode"] = F(
            "enum", enum=Enum("SupervisedTuningSpec.TuningMode", TUNING_MODE_NUMBERS, pkg)
        )
    spec = Msg("SupervisedTuningSpec", spec_fields, pkg)
    pre_tuned = Msg(
        "PreTunedModel", {"tuned_model_name": STRING, "checkpoint_id": STRING, "base_model": STRING}, pkg
    )
    fields = {
        "base_model": STRING,
        "pre_tuned_model": F("message", pre_tuned),
        "supervised_tuning_spec": F("message", spec),
        "preference_optimization_spec": ANY,
        "name": ANY,
        "tuned_model_display_name": STRING,
        "description": STRING,
        "state": ANY,
        "create_time": ANY,
        "start_time": ANY,
        "end_time": ANY,
        "update_time": ANY,
        "error": ANY,
        "labels": MAP,
        "experiment": ANY,
        "tuned_model": ANY,
        "tuning_data_stats": ANY,
        "encryption_spec": ANY,
        "service_account": STRING,
        "evaluate_dataset_runs": ANY,
    }
    if beta:
        fields |= {
            "distillation_spec": ANY,
            "reinforcement_tuning_spec": ANY,
            "partner_model_tuning_spec": ANY,
            "veo_tuning_spec": ANY,
            "veo_lora_tuning_spec": ANY,
            "custom_base_model": STRING,
            "pipeline_job": ANY,
            "output_uri": STRING,
            "tuning_job_state": ANY,
            "tuning_job_metadata": ANY,
        }
    return Msg("TuningJob", fields, pkg)


@cache
def undeploy_model_request(version: str) -> Msg:
    return Msg(
        "UndeployModelRequest",
        {"endpoint": STRING, "deployed_model_id": STRING, "traffic_split": ANY},
        package(version),
    )


@cache
def cancel_request(version: str) -> Msg:
    return Msg("CancelTuningJobRequest", {"name": STRING}, package(version))
