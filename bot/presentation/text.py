"""Small text helpers for Slack messages: bars, durations, ETA and mrkdwn escaping."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from bot.domain.text import ZERO_WIDTH_SPACE, escape_mrkdwn, escape_truncated

FILLED_CELL = "▓"
EMPTY_CELL = "░"
MIN_PERCENT_FOR_ETA = 1.0
# How much of a prompt `/tune try` and `/tune compare` echo (escaped): a prompt may be
# 40,000 characters, Slack's whole limit for a message's text, and a section holds 3,000.
PROMPT_ECHO_LIMIT = 2_000


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


def format_loss(loss: float | None) -> str | None:
    """ "1.234" style loss, scientific for tiny values; None when unknown or not finite."""
    if loss is None or not math.isfinite(loss):
        return None
    if loss != 0 and abs(loss) < 0.001:
        return f"{loss:.2e}"
    return f"{loss:.3f}"


# ISO 4217 currencies without a minor unit: their amounts are shown in whole units.
WHOLE_UNIT_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def format_money(amount: float | Decimal, currency: str) -> str:
    """`USD 12.34`, `JPY 1,234` (no decimals where the currency has no minor unit); below the
    smallest unit, four decimals (two significant ones for yen) so a tiny estimate does not
    read as zero."""
    unit = escape_mrkdwn(currency)
    value = amount if isinstance(amount, Decimal) else Decimal(repr(float(amount)))
    if not value.is_finite():
        return f"{unit} ?"
    whole = currency.upper() in WHOLE_UNIT_CURRENCIES
    smallest = Decimal(1) if whole else Decimal("0.01")
    if value != 0 and abs(value) < smallest:
        small = value.quantize(Decimal("0.01") if whole else Decimal("0.0001"), rounding=ROUND_HALF_UP)
        return f"{unit} {small}"
    rounded = value.quantize(smallest, rounding=ROUND_HALF_UP)
    return f"{unit} {rounded:,}"


def plain_text(mrkdwn: str) -> str:
    """A mrkdwn message for a place Slack shows as plain text (a modal field's error):
    no code marks, Slack's three entities shown as the characters they stand for."""
    text = mrkdwn.replace("`", "").replace(ZERO_WIDTH_SPACE, "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def prompt_echo(prompt: str, limit: int = PROMPT_ECHO_LIMIT) -> str:
    """A user's prompt quoted in a message, escaped; one longer than `limit` characters (once
    escaped) is shortened with a visible "…" and its full length noted: the model gets it all."""
    shown = escape_truncated(prompt, limit)
    if len(shown) >= len(escape_mrkdwn(prompt)):
        return f">{shown}"
    note = f"shortened here: the prompt is {len(prompt):,} characters long; the model got all of it"
    return f">{shown}\n_({note})_"
