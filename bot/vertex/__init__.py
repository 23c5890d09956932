"""Vertex AI supervised tuning (tuningJobs, endpoints) and the Cloud Storage upload it reads from."""

from bot.vertex.auth import AdcTokens, AuthError, StaticToken, TokenSource
from bot.vertex.client import VertexClient
from bot.vertex.errors import VertexAPIError, VertexConnectionError
from bot.vertex.types import CheckpointRef, SeriesPoint, TimeSeries, TunedModelRef, TuningJob, TuningJobPage

__all__ = [
    "AdcTokens",
    "AuthError",
    "CheckpointRef",
    "SeriesPoint",
    "StaticToken",
    "TimeSeries",
    "TokenSource",
    "TunedModelRef",
    "TuningJob",
    "TuningJobPage",
    "VertexAPIError",
    "VertexClient",
    "VertexConnectionError",
]
