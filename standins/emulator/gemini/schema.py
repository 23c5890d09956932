"""The Gemini API's request messages, as `standins.emulator.core.protojson` checks them."""

from __future__ import annotations

from standins.emulator.core.protojson import ANY, F, Msg


def _msg(type_name: str, **fields: F) -> Msg:
    return Msg(type_name, fields)


HYPERPARAMETERS = _msg(
    "Hyperparameters",
    learning_rate=F("float"),
    learning_rate_multiplier=F("float"),
    epoch_count=F("int32"),
    batch_size=F("int32"),
)
TUNING_EXAMPLE = _msg("TuningExample", text_input=F("string"), output=F("string"))
TUNING_EXAMPLES = _msg("TuningExamples", examples=F("message", TUNING_EXAMPLE, repeated=True))
DATASET = _msg("Dataset", examples=F("message", TUNING_EXAMPLES))
TUNING_TASK = _msg(
    "TuningTask",
    start_time=ANY,
    complete_time=ANY,
    snapshots=ANY,
    training_data=F("message", DATASET),
    hyperparameters=F("message", HYPERPARAMETERS),
)
TUNED_MODEL_SOURCE = _msg("TunedModelSource", tuned_model=F("string"), base_model=ANY)
TUNED_MODEL = _msg(
    "TunedModel",
    name=ANY,
    display_name=F("string"),
    description=F("string"),
    temperature=F("float"),
    top_p=F("float"),
    top_k=F("int32"),
    state=ANY,
    create_time=ANY,
    update_time=ANY,
    tuning_task=F("message", TUNING_TASK),
    tuned_model_source=F("message", TUNED_MODEL_SOURCE),
    base_model=F("string"),
    reader_project_numbers=ANY,
)
PART = _msg(
    "Part",
    text=F("string"),
    inline_data=ANY,
    function_call=ANY,
    function_response=ANY,
    file_data=ANY,
    executable_code=ANY,
    code_execution_result=ANY,
)
CONTENT = _msg("Content", parts=F("message", PART, repeated=True), role=F("string"))
GENERATION_CONFIG = _msg(
    "GenerationConfig",
    candidate_count=F("int32"),
    stop_sequences=F("string", repeated=True),
    max_output_tokens=F("int32"),
    temperature=F("float"),
    top_p=F("float"),
    top_k=F("int32"),
    response_mime_type=F("string"),
    response_schema=ANY,
    presence_penalty=F("float"),
    frequency_penalty=F("float"),
    response_logprobs=F("bool"),
    logprobs=F("int32"),
    seed=F("int32"),
)
GENERATE_CONTENT_REQUEST = _msg(
    "GenerateContentRequest",
    model=F("string"),
    contents=F("message", CONTENT, repeated=True),
    system_instruction=F("message", CONTENT),
    tools=ANY,
    tool_config=ANY,
    safety_settings=ANY,
    generation_config=F("message", GENERATION_CONFIG),
    cached_content=F("string"),
)
