"""Vertex AI supervised tuning (tuningJobs, endpoints) and the Cloud Storage upload it reads from."""

from bot.vertex.auth import AdcTokens, AuthError, StaticToken, TokenSource
from bot.vertex.client import (
    TunedModelRef,
    TuningJob,
    TuningJobPage,
    VertexAPIError,
    VertexClient,
    VertexConnectionError,
)

__all__ = [
    "AdcTokens",
    "AuthError",
    "StaticToken",
    "TokenSource",
    "TunedModelRef",
    "TuningJob",
    "TuningJobPage",
    "VertexAPIError",
    "VertexClient",
    "VertexConnectionError",
]
