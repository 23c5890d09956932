"""An offline emulation of the Gemini API's model tuning service (no model runs here).

Tuning jobs are timetables on a controllable clock, and a "tuned model" answers with the
output of its most similar training example. See `bot.emulator.app` for the served paths.
"""

from bot.emulator.app import create_app
from bot.emulator.config import EmulatorConfig, FaultConfig, ScriptedFault
from bot.emulator.errors import ApiError
from bot.emulator.service import BASE_MODELS, Emulator

__all__ = [
    "BASE_MODELS",
    "ApiError",
    "Emulator",
    "EmulatorConfig",
    "FaultConfig",
    "ScriptedFault",
    "create_app",
]
