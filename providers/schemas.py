"""Normalized output types, the same whichever provider answered (frozen dataclasses, no Django).

Adapters build these through the helpers below, which reject implausible values as bad data so a
lying or broken provider falls back instead of reaching a caller.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from providers.adapters.base import BadData

# A timestamp more than this far ahead of the answer's own time is implausible (seconds).
MAX_FUTURE_SKEW_S = 24 * 3600
# Epoch seconds outside this range are a unit mix-up (ms sent as s) or garbage: 2009-01-03 .. 2100-01-01.
MIN_PLAUSIBLE_EPOCH_S = 1_230_940_800
MAX_PLAUSIBLE_EPOCH_S = 4_102_444_800


@dataclass(frozen=True)
class Quote:
    """One coin's price in one currency. volume_24h is in `vs`; change_24h_pct is in percent."""

    id: str
    symbol: str | None
    vs: str
    price: float
    market_cap: float | None = None
    volume_24h: float | None = None
    change_24h_pct: float | None = None
    last_updated: str | None = None  # UTC ISO-8601, "2025-06-10T12:00:00Z"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
    if seconds is None:
        return None
    if not MIN_PLAUSIBLE_EPOCH_S <= seconds < MAX_PLAUSIBLE_EPOCH_S:
        raise BadData(f"{slug}: implausible timestamp {seconds!r}")
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


def make_quote(
    *,
    slug: str,
    id: str,
    symbol: str | None,
    vs: str,
    price: Any,
    market_cap: Any = None,
    volume_24h: Any = None,
    change_24h_pct: Any = None,
    last_updated: str | None = None,
) -> Quote:
    """A validated Quote: price must be a finite number above zero."""
    value = number(price, f"{id} price", slug=slug)
    if value is None or value <= 0:
        raise BadData(f"{slug}: implausible price {price!r} for {id}")
    return Quote(
        id=id,
        symbol=symbol,
        vs=vs,
        price=value,
        market_cap=number(market_cap, f"{id} market_cap", slug=slug),
        volume_24h=number(volume_24h, f"{id} volume_24h", slug=slug),
        change_24h_pct=number(change_24h_pct, f"{id} change_24h_pct", slug=slug),
        last_updated=last_updated,
    )
