"""Logging set-up that keeps secrets out of every log line.

Known secret values (from the settings) and anything shaped like a Slack token, a
Google API key or a `key=` query parameter are replaced before a line is written,
including in tracebacks.
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
)

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for shape in SECRET_SHAPES:
        text = shape.sub(REDACTED, text)
    return text


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.secrets)
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
