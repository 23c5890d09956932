"""The one HTTP core under tunebot's Google API clients (`bot.gemini`, `bot.vertex`).

`errors`: Google's JSON error body as `GoogleAPIError`, no answer as `GoogleConnectionError`;
`retry`: when and how long to wait; `resend`: one call sent until it succeeds or fails for
good; `transport`: the pooled httpx transport (the seam tests replace).
"""

from bot.google.errors import GoogleAPIError, GoogleConnectionError, GoogleError
from bot.google.retry import RetryPolicy

__all__ = ["GoogleAPIError", "GoogleConnectionError", "GoogleError", "RetryPolicy"]
