"""Small text helpers for Slack messages: bars, durations, ETA and mrkdwn escaping."""

from __future__ import annotations

import math
import re
from datetime import datetime

FILLED_CELL = "▓"
EMPTY_CELL = "░"
MIN_PERCENT_FOR_ETA = 1.0
ZERO_WIDTH_SPACE = "\u200b"

_SLACK_CONTROL_CHARS = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# A formatting marker only opens bold/italic/strike/code at the start of a word and
# only closes one at the end of a word, so a zero-width space on the outer side of
# such a marker keeps it literal. The same trick keeps an (escaped) `>` at the start
# of a line from turning into a block quote.
_OPENING_MARKER = re.compile(r"(?:(?<=^)|(?<=[\s(\[{\"']))(?=[*_~`])", re.MULTILINE)
_CLOSING_MARKER = re.compile(r"(?<=[*_~`])(?=$|[\s.,;:!?)\]}\"'])", re.MULTILINE)
_LEADING_QUOTE = re.compile(r"^(?=&gt;)", re.MULTILINE)


def clamp_percent(percent: float) -> float:
    """`percent` limited to 0..100; NaN counts as no progress."""
    if math.isnan(percent):
        return 0.0
    return min(100.0, max(0.0, percent))


def format_percent(percent: float) -> str:
    """Whole percent, rounded down so "100%" only appears when the job is really done."""
    return f"{math.floor(clamp_percent(percent))}%"


def progress_bar(percent: float, width: int = 20) -> str:
    """A `width`-cell bar such as "▓▓▓▓▓▓░░░░…"; only full at 100%."""
    if width <= 0:
        return ""
    filled = math.floor(clamp_percent(percent) / 100 * width)
    return FILLED_CELL * filled + EMPTY_CELL * (width - filled)


def format_duration(seconds: float) -> str:
    """ "45s", "3m 05s", "1h 02m" or "2d 03h"; negative or NaN durations read "0s"."""
    if math.isnan(seconds) or seconds <= 0:
        return "0s"
    total = int(seconds)
    minutes, secs = divmod(total, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def elapsed_seconds(started_at: datetime, now: datetime) -> float:
    """Seconds since `started_at`, never negative (clocks may disagree slightly)."""
    return max(0.0, (now - started_at).total_seconds())


def eta_seconds(percent: float, started_at: datetime, now: datetime) -> float | None:
    """Seconds left, extrapolated linearly from the progress so far.

    None until at least `MIN_PERCENT_FOR_ETA` percent is done (earlier guesses
    are noise) or when no time has passed yet.
    """
    done = clamp_percent(percent)
    elapsed = elapsed_seconds(started_at, now)
    if done < MIN_PERCENT_FOR_ETA or elapsed <= 0:
        return None
    return elapsed * (100.0 - done) / done


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


def format_loss(loss: float | None) -> str | None:
    """ "1.234" style loss, scientific for tiny values; None when unknown or not finite."""
    if loss is None or not math.isfinite(loss):
        return None
    if loss != 0 and abs(loss) < 0.001:
        return f"{loss:.2e}"
    return f"{loss:.3f}"


def format_money(amount: float, currency: str) -> str:
    """`USD 12.34` (four decimals below a cent, so a tiny estimate does not read as zero)."""
    unit = escape_mrkdwn(currency)
    return f"{unit} {amount:,.2f}" if amount >= 0.01 or amount == 0 else f"{unit} {amount:.4f}"
