"""Reading a provider's raw values: numbers and UTC timestamps, implausible ones rejected as bad data.

The record builders in providers.schemas validate through these; adapters reach them there too.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from providers.adapters.base import BadData
from providers.measures import iso_seconds

# A timestamp more than this far ahead of the answer's own time is implausible (seconds).
MAX_FUTURE_SKEW_S = 24 * 3600
# Epoch seconds outside this range are a unit mix-up (ms sent as s) or garbage: 2009-01-03 .. 2100-01-01.
MIN_PLAUSIBLE_EPOCH_S = 1_230_940_800
MAX_PLAUSIBLE_EPOCH_S = 4_102_444_800
# Dominance and other shares are percentages of the whole market.
MAX_PERCENT = 100.0


def number(value: Any, field: str, *, slug: str) -> float | None:
    """A float from a JSON number or numeric string (Binance, CoinCap send strings); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BadData(f"{slug}: {field} is not a number")
    try:
        result = float(value)
    except (TypeError, ValueError) as exc:
        raise BadData(f"{slug}: {field} is not a number ({value!r})") from exc
    if not math.isfinite(result):
        raise BadData(f"{slug}: {field} is not finite")
    return result


def iso_from_epoch(seconds: float | None, *, slug: str) -> str | None:
    """Plausible epoch seconds as `2025-06-10T12:00:00Z` (fraction dropped); None stays None."""
    if seconds is None:
        return None
    if not MIN_PLAUSIBLE_EPOCH_S <= seconds < MAX_PLAUSIBLE_EPOCH_S:
        raise BadData(f"{slug}: implausible timestamp {seconds!r}")
    return iso_seconds(int(seconds))


def iso_from_millis(millis: float | None, *, slug: str) -> str | None:
    """Epoch milliseconds (what exchanges stamp their answers with) as iso_from_epoch does seconds;
    None or 0 (no time given) is None."""
    return iso_from_epoch(millis / 1000, slug=slug) if millis else None


def iso_from_string(value: Any, *, slug: str) -> str | None:
    """Any ISO-8601 string (with Z or an offset, with or without fraction) as UTC seconds + Z."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadData(f"{slug}: bad timestamp {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return iso_from_epoch(parsed.timestamp(), slug=slug)


def epoch_of(iso: str | None) -> float | None:
    if iso is None:
        return None
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def check_not_future(last_updated: str | None, reference_epoch_s: float | None, *, slug: str) -> None:
    """Reject a timestamp far ahead of a reference time (the answer's own clock, or the engine's)."""
    if last_updated is None or reference_epoch_s is None:
        return
    if epoch_of(last_updated) > reference_epoch_s + MAX_FUTURE_SKEW_S:
        raise BadData(f"{slug}: last_updated {last_updated} is in the future")


def check_row_times(rows: list[dict], *, slug: str) -> None:
    """Bad data if a row is stamped far after the listing's median time (the answer has no clock)."""
    stamps = sorted(epoch_of(row["last_updated"]) for row in rows if row["last_updated"])
    for row in rows:
        check_not_future(row["last_updated"], stamps[len(stamps) // 2] if stamps else None, slug=slug)


def required_number(value: Any, field_name: str, *, slug: str) -> float:
    result = number(value, field_name, slug=slug)
    if result is None:
        raise BadData(f"{slug}: {field_name} is missing")
    return result


def optional_int(value: Any, field_name: str, *, slug: str) -> int | None:
    result = number(value, field_name, slug=slug)
    return None if result is None else int(result)


def percent(value: Any, field_name: str, *, slug: str) -> float | None:
    """A share of the market: 0..100, else the provider sent a ratio or garbage."""
    result = number(value, field_name, slug=slug)
    if result is not None and not 0 <= result <= MAX_PERCENT:
        raise BadData(f"{slug}: implausible {field_name} {value!r}")
    return result
