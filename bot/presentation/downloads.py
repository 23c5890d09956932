"""Why a file shared in Slack could not be downloaded: the reason that follows
"Could not fetch `<file>`:" (see `uploads.fetch_failed_text`), and file sizes in words."""

from __future__ import annotations

from bot.domain.text import escape_mrkdwn as esc

MISSING_FILES_READ_TEXT = (
    "I may not read files: the app is missing the `files:read` scope (see manifest.yml)."
)
REDIRECT_WITHOUT_TARGET_TEXT = "Slack answered with a redirect without a target."
FILE_REFUSED_TEXT = (
    "Slack refused to hand me the file. Make sure the app has the `files:read` scope "
    "(see manifest.yml) and is in this channel."
)
FILE_GONE_TEXT = "Slack says the file no longer exists."
SIGN_IN_PAGE_TEXT = (
    "Slack sent a sign-in page instead of the file: the app is missing the `files:read` "
    "scope. Add it (it is in manifest.yml) and reinstall the app."
)


def describe_size(size: int) -> str:
    """A byte count in words: `2.5 GB`, `1.5 MB`, `12 KB`, `300 bytes` (a whole number without
    `.0`: `1 GB`, `64 MB`)."""
    if size >= 1024 * 1024 * 1024:
        return f"{size / (1024 * 1024 * 1024):.1f} GB".replace(".0 GB", " GB")
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def file_not_described_text(error: str) -> str:
    """Slack's `files.info` refused, saying `error`."""
    return f"Slack would not describe the file ({esc(error)})."


def foreign_host_text(where: str) -> str:
    """The file link leads somewhere other than Slack's file hosts (`where`: its origin)."""
    return (
        f"The file link points at `{esc(where)}`, which is not one of Slack's file hosts, "
        "so I did not download it (the bot token goes nowhere else)."
    )


def download_status_text(status: int) -> str:
    """Slack answered the download with an HTTP error `status`."""
    return f"Slack answered {status} when I downloaded the file."


def too_many_redirects_text(limit: int) -> str:
    return f"The file link redirected more than {limit} times; I gave up."


def download_failed_text(error_type: str) -> str:
    """The download broke off (`error_type`: the exception's class name)."""
    return f"The download from Slack failed ({esc(error_type)}). Try again."


def declared_too_big_text(size: int, limit: int) -> str:
    """The file's declared length is over the limit (both in bytes)."""
    return f"The file is {describe_size(size)}; the limit is {describe_size(limit)}."


def grew_too_big_text(limit: int) -> str:
    """The download went past the limit (in bytes) and was stopped."""
    return f"The file is larger than the {describe_size(limit)} limit; I stopped downloading it."
