"""Escaping untrusted text for the messages users read.

Every message tunebot shows is Slack mrkdwn (see `bot.domain.errors`: an error's `str()` is
shown as is), so any layer that puts untrusted text into one escapes it with these. Pure:
no I/O, nothing else of tunebot.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"

_SLACK_CONTROL_CHARS = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# A formatting marker only opens bold/italic/strike/code at the start of a word and
# only closes one at the end of a word, so a zero-width space on the outer side of
# such a marker keeps it literal. The same trick keeps an (escaped) `>` at the start
# of a line from turning into a block quote.
_OPENING_MARKER = re.compile(r"(?:(?<=^)|(?<=[\s(\[{\"']))(?=[*_~`])", re.MULTILINE)
_CLOSING_MARKER = re.compile(r"(?<=[*_~`])(?=$|[\s.,;:!?)\]}\"'])", re.MULTILINE)
_LEADING_QUOTE = re.compile(r"^(?=&gt;)", re.MULTILINE)


def escape_mrkdwn(text: str) -> str:
    """Make untrusted text safe to embed in Slack mrkdwn.

    `&`, `<` and `>` become HTML entities, as Slack's "Escaping text" rules ask, so
    `<!channel>`, `<@U123>` or `<http://x|y>` show up as typed instead of pinging or
    linking. Formatting markers (`*`, `_`, `~`, backtick) that could open or close a
    span, and a `>` that would start a quote, get an invisible zero-width space on
    their outer side; the text still reads the same.
    """
    escaped = "".join(_SLACK_CONTROL_CHARS.get(char, char) for char in text)
    escaped = _OPENING_MARKER.sub(ZERO_WIDTH_SPACE, escaped)
    escaped = _CLOSING_MARKER.sub(ZERO_WIDTH_SPACE, escaped)
    return _LEADING_QUOTE.sub(ZERO_WIDTH_SPACE, escaped)


def escape_truncated(text: str, limit: int) -> str:
    """`escape_mrkdwn(text)`, cut (with "…") so the escaped result fits in `limit` chars."""
    escaped = escape_mrkdwn(text)
    if len(escaped) <= limit:
        return escaped
    fits, too_long = 0, min(len(text), limit)
    while too_long - fits > 1:  # binary search for the longest prefix that still fits
        middle = (fits + too_long) // 2
        if len(_escaped_prefix(text, middle)) <= limit:
            fits = middle
        else:
            too_long = middle
    shortened = _escaped_prefix(text, fits)
    return shortened if len(shortened) <= limit else ""


def _escaped_prefix(text: str, length: int) -> str:
    return escape_mrkdwn(text[:length].rstrip()) + "…"
