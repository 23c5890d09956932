"""Errors raised by the Vertex AI client: the Google ones, naming Vertex AI."""

from __future__ import annotations

from bot.google.errors import GoogleAPIError, GoogleConnectionError


class VertexConnectionError(GoogleConnectionError):
    """No HTTP answer from Vertex AI / Cloud Storage, or no credentials to ask with."""

    service = "Vertex AI"


class VertexAPIError(GoogleAPIError):
    """Vertex AI or Cloud Storage answered with an error status."""

    service = "Vertex AI"
