"""An offline emulation of Google's tuning APIs (no model runs here): the Gemini API
(`bot.emulator.gemini`), Vertex AI (`bot.emulator.vertex`) and Cloud Storage
(`bot.emulator.storage`), on a shared clock, fault config and error shape (`bot.emulator.core`).

Tuning jobs are timetables on a controllable clock, and a "tuned model" answers with the
output of its most similar training example. See `bot.emulator.app` for the served paths.
"""

from bot.emulator.app import create_app
from bot.emulator.config import EmulatorConfig, FaultConfig, ScriptedFault
from bot.emulator.core.errors import ApiError
from bot.emulator.gemini.models import BASE_MODELS
from bot.emulator.service import Emulator

__all__ = [
    "BASE_MODELS",
    "ApiError",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "ScriptedFault",
    "create_app",
]
