"""Logging set-up that keeps secrets out of every log line.

Known secret values (from the settings) and anything shaped like a Slack token, a
Google API key, a `key=` query parameter or a response_url are replaced before a line
is written, including in tracebacks; request bodies Bolt would log are withheld.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

REDACTED = "[redacted]"

SECRET_SHAPES = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]+"),  # Slack bot / user / app tokens
    re.compile(r"xapp-[A-Za-z0-9-]+"),
    re.compile(r"AIza[0-9A-Za-z_-]{20,}"),  # Google API keys
    re.compile(r"(?<=[?&]key=)[^&\s\"']+"),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(?<=x-goog-api-key': ')[^']+"),
    # response_url: whoever holds one may post into the channel for 30 minutes
    re.compile(r"https?://hooks\.slack\.com/[^\s\"'<>,)]+"),
    re.compile(r"https?://[^\s\"'<>/]+/(?:commands|actions|response)/[^\s\"'<>,)]+"),
    re.compile(r"https?%3A%2F%2F[^\s&\"']+", re.IGNORECASE),  # the same, form-encoded
)

# Bolt logs whole request bodies (on a failed signature check, on unhandled requests,
# in its arguments' debug output); they hold response_url, user ids and text.
BOLT_LOGGERS = ("slack_bolt", "bot.slack.bolt")
BODY_MARKERS = ("body", "{", "payload", "response_url", "trigger_id", "token=", "team_id")
WITHHELD = "[request details withheld]"

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for shape in SECRET_SHAPES:
        text = shape.sub(REDACTED, text)
    return text


def withhold_body(message: str) -> str:
    """What Bolt said, without the request it quoted: the words before the first
    bracket, colon or brace (e.g. "Invalid request signature detected")."""
    head = re.split(r"[({:\[]", message, maxsplit=1)[0].strip()
    return f"{head} {WITHHELD}" if head else WITHHELD


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
        if record.name.startswith(BOLT_LOGGERS) and any(marker in clean for marker in BODY_MARKERS):
            clean = withhold_body(clean)
        if clean != message:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


def configure_logging(level: str = "INFO", secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Log to stderr (or `stream`) through the redacting filter; replaces earlier handlers."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_tunebot", False):
            root.removeHandler(old)
    handler._tunebot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "alembic"):  # alembic: bot.storage.schema says what it upgrades
        logging.getLogger(noisy).setLevel(max(root.level, logging.WARNING))
    # "skipped: maximum number of running instances reached" only says a cycle outlasted the interval.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
