"""List paging: page sizes and opaque page tokens bound to the list request they came from."""

from __future__ import annotations

import base64
import binascii
import json

from standins.emulator.core.errors import invalid_argument

MAX_PAGE_SIZE = 1000


def clamp_page_size(value: int | None, *, default: int) -> int:
    if value is None or value == 0:
        return default
    if value < 0:
        raise invalid_argument(f"page_size must not be negative, got {value}.", field="page_size")
    return min(value, MAX_PAGE_SIZE)


def encode_token(position: int, scope: str) -> str:
    raw = json.dumps({"p": position, "s": scope}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, scope: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position, token_scope = data["p"], data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise invalid_argument("Invalid page_token.", field="page_token") from exc
    if token_scope != scope or not isinstance(position, int):
        raise invalid_argument(
            "Invalid page_token: it was issued for a different list request.", field="page_token"
        )
    return position
