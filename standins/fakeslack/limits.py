"""Slack's limits on what the Web API accepts (Block Kit, metadata, views)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from standins.fakeslack.records import SlackError

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3_000
MAX_HEADER_TEXT = 150
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3_000
MAX_VIEW_STACK = 3
RESPONSE_URL_MAX_USES = 5


def _text_of(obj: Any) -> str:
    if isinstance(obj, Mapping):
        return str(obj.get("text", ""))
    return ""


def check_text(text: Any) -> None:
    """A message's `text` over 40,000 characters: chat.postMessage, chat.update and
    chat.postEphemeral list `msg_too_long` ("Message text is too long") among their errors;
    the fake answers it wherever a message's text is set, response_url posts included."""
    if isinstance(text, str) and len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")


def validate_blocks(blocks: Any, *, limit: int = MAX_BLOCKS_MESSAGE) -> list[dict[str, Any]]:
    """Reject what Slack rejects with `invalid_blocks` (the common mistakes)."""
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:/blocks/{index}]")
            continue
        if block["type"] == "section":
            if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
                problems.append(
                    f"must be less than {MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/{index}/text]"
                )
            if "text" not in block and "fields" not in block:
                problems.append(f"must provide text or fields [json-pointer:/blocks/{index}]")
        elif block["type"] == "header" and len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
            problems.append(
                f"must be less than {MAX_HEADER_TEXT + 1} characters [json-pointer:/blocks/{index}/text]"
            )
    if problems:
        raise SlackError("invalid_blocks", messages=problems)
    return blocks


def validate_metadata(metadata: Any) -> dict[str, Any]:
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not metadata["event_type"]
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError("invalid_metadata_format")
    return {"event_type": metadata["event_type"], "event_payload": copy.deepcopy(metadata["event_payload"])}


def validate_view(view: Any) -> dict[str, Any]:
    if not isinstance(view, dict):
        raise SlackError(
            "invalid_arguments", messages=["failed to match all allowed schemas [json-pointer:/view]"]
        )
    problems: list[str] = []
    view_type = view.get("type")
    if view_type not in ("modal", "home"):
        problems.append("must be one of: modal, home [json-pointer:/view/type]")
    if view_type == "modal":
        if not _text_of(view.get("title")):
            problems.append("missing required field: title [json-pointer:/view]")
        for key in ("title", "submit", "close"):
            if len(_text_of(view.get(key))) > MAX_VIEW_TITLE:
                problems.append(
                    f"must be less than {MAX_VIEW_TITLE + 1} characters [json-pointer:/view/{key}/text]"
                )
    if len(str(view.get("private_metadata", ""))) > MAX_PRIVATE_METADATA:
        problems.append(
            f"must be less than {MAX_PRIVATE_METADATA + 1} characters [json-pointer:/view/private_metadata]"
        )
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("must be less than 256 characters [json-pointer:/view/callback_id]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        problems.append("missing required field: blocks [json-pointer:/view]")
    elif len(blocks) > MAX_BLOCKS_VIEW:
        problems.append(f"no more than {MAX_BLOCKS_VIEW} items allowed [json-pointer:/view/blocks]")
    if problems:
        raise SlackError("invalid_arguments", messages=problems)
    return copy.deepcopy(view)
