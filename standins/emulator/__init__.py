"""An offline emulation of Google's tuning APIs (no model runs here): the Gemini API
(`standins.emulator.gemini`), Vertex AI (`standins.emulator.vertex`) and Cloud Storage
(`standins.emulator.storage`), on a shared clock, fault config and error shape (`standins.emulator.core`).

Tuning jobs are timetables on a controllable clock, and a "tuned model" answers with the
output of its most similar training example. See `standins.emulator.app` for the served paths.
"""

from standins.emulator.app import create_app
from standins.emulator.config import EmulatorConfig, FaultConfig, ScriptedFault
from standins.emulator.core.errors import ApiError
from standins.emulator.gemini.models import BASE_MODELS
from standins.emulator.service import Emulator

__all__ = [
    "BASE_MODELS",
    "ApiError",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "ScriptedFault",
    "create_app",
]
