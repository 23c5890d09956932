"""The errors every layer may raise or catch; each `str()` is fit to show a user."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; `str(error)` is Slack mrkdwn for them."""


class UsageError(ValueError):
    """What the user typed cannot be understood; the message says why and what to type."""


class StorageUnavailable(Exception):
    """The database refused a write it cannot take now (disk full, read-only, I/O error);
    the transaction was rolled back, so nothing of it is stored. `str()` says why, briefly."""


class BackendError(Exception):
    """A tuning service refused or failed a request.

    `message` is the service's own reason in plain words, fit to show in Slack.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        status: str | None = None,
        retryable: bool = False,
        not_found: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.retryable = retryable
        self.not_found = not_found
        self.retry_after = retry_after

    def __str__(self) -> str:
        prefix = f"{self.code} {self.status}: " if self.code and self.status else ""
        return prefix + self.message
