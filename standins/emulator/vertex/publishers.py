"""publishers/google/models/{model}:generateContent: a base (untuned) Gemini model answers.

It has seen none of anyone's examples, so it answers as `generation.base_answer` does: in
the generic way a base model does to a terse prompt, never a tuned task's expected output.
"""

from __future__ import annotations

from typing import Any

from standins.emulator.core import generation
from standins.emulator.core.errors import not_found
from standins.emulator.core.judge import judge_answer
from standins.emulator.vertex.endpoints import check_conversation, conversation_of, generation_response
from standins.emulator.vertex.routing import Routes, VertexCall
from standins.emulator.vertex.service import VertexService
from standins.emulator.vertex.tuning import ADAPTER_SIZES

PUBLISHER = "google"


def generate(svc: VertexService, call: VertexCall) -> dict[str, Any]:
    publisher, model = call.ids[0], call.ids[-1]
    if publisher != PUBLISHER or model not in ADAPTER_SIZES:
        raise not_found(f"Publisher Model `{call.parent}/publishers/{publisher}/models/{model}` not found.")
    asked = conversation_of(call)
    check_conversation(call.body, model)
    with svc.lock:
        svc.generate_requests.append(dict(call.body))
    judged = judge_answer(asked.prompt, prefers=svc.runtime.faults.judge_prefers)
    if judged is not None:  # tunebot's pairwise judge (standins/emulator/core/judge.py)
        return generation_response(asked, judged, model)
    text = generation.base_answer(asked.prompt, earlier_turns=len(asked.history), system=asked.system)
    return generation_response(asked, text, model)


ROUTES: Routes = {
    ("POST", "publishers/*/models/*:generateContent"): ("publishers.models.generateContent", generate),
}
