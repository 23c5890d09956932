"""Errors raised by the Gemini client: the Google ones, naming the Gemini API."""

from __future__ import annotations

from bot.google.errors import GoogleAPIError, GoogleConnectionError


class GeminiConnectionError(GoogleConnectionError):
    """The request never got an HTTP answer from the Gemini API."""

    service = "the Gemini API"


class GeminiAPIError(GoogleAPIError):
    """The Gemini API answered with an error status."""

    service = "the Gemini API"
