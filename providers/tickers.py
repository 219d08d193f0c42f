"""The 24 h ticker of one exchange pair: last price, the rolling window's open/high/low, volumes,
change, VWAP, best bid/ask and the window's times, the same whichever exchange answered.

Adapters hand over the values their provider really gives (numbers or numeric strings, None for
what it lacks) and `make_ticker` does the rest in one place: open, change and change_pct follow
from last and whichever of open or change the provider gives (plain arithmetic, never a guess),
and implausible answers (no last price, high below low, a bid above the ask, a last price far
outside the day's range) are rejected as bad data so the engine falls back instead of serving them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from providers.adapters.base import BadData
from providers.values import epoch_of, number

# Derived percentages are rounded: float noise past 4 decimals means nothing.
CHANGE_PCT_DECIMALS = 4
# How far last and open may sit outside [low, high], as a fraction of the range's edge: an
# exchange fills its fields from one snapshot, but a few read them from two, a tick apart.
RANGE_SLACK = 0.01


@dataclass(frozen=True)
class Ticker:
    """One pair's rolling 24 h statistics. volume is in the base asset, quote_volume in the quote
    currency, change_pct in percent; fields the provider does not give are null."""

    id: str  # the base asset's coin id
    vs: str  # the quote code as asked
    pair: str  # the provider's own name of the pair that answered (BTCUSDT, XXBTZUSD, BTC-USD)
    last: float
    open: float | None = None  # the price 24 h ago (the window's open)
    high: float | None = None
    low: float | None = None
    volume: float | None = None
    quote_volume: float | None = None
    change: float | None = None  # last - open
    change_pct: float | None = None
    vwap: float | None = None
    bid: float | None = None
    bid_size: float | None = None
    ask: float | None = None
    ask_size: float | None = None
    open_time: str | None = None  # UTC ISO-8601 "…Z"
    close_time: str | None = None  # the ticker's own time
    trades: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _positive(value: Any, name: str, *, slug: str) -> float | None:
    result = number(value, name, slug=slug)
    if result is not None and result <= 0:
        raise BadData(f"{slug}: implausible ticker {name} {value!r}")
    return result


def _amount(value: Any, name: str, *, slug: str) -> float | None:
    result = number(value, name, slug=slug)
    if result is not None and result < 0:
        raise BadData(f"{slug}: negative ticker {name} {value!r}")
    return result


def _check_range(slug: str, name: str, price: float | None, low: float | None, high: float | None) -> None:
    if price is None or low is None or high is None:
        return
    if not low * (1 - RANGE_SLACK) <= price <= high * (1 + RANGE_SLACK):
        raise BadData(f"{slug}: ticker {name} {price} lies outside the 24 h range [{low}, {high}]")


def _minus(a: float, b: float) -> float:
    # Subtracting the printed decimals, not the binary floats, keeps the change free of float noise.
    return float(Decimal(repr(a)) - Decimal(repr(b)))


def make_ticker(
    *, slug: str, params: Mapping[str, Any], pair: str, last: Any, open: Any = None, high: Any = None,
    low: Any = None, volume: Any = None, quote_volume: Any = None, change: Any = None, change_pct: Any = None,
    vwap: Any = None, bid: Any = None, bid_size: Any = None, ask: Any = None, ask_size: Any = None,
    open_time: str | None = None, close_time: str | None = None, trades: Any = None,
) -> dict[str, Any]:
    """A validated Ticker (as a dict) for params' id and vs; see the module docstring for the checks."""
    last_price = _positive(last, "last", slug=slug)
    if last_price is None:
        raise BadData(f"{slug}: the ticker of {pair} has no last price")
    moved = number(change, "change", slug=slug)
    opened = number(open, "open", slug=slug)
    if opened is None and moved is not None:
        opened = _minus(last_price, moved)
    if opened is not None and opened <= 0:
        raise BadData(f"{slug}: implausible ticker open {opened!r} (change {change!r})")
    top, bottom = _positive(high, "high", slug=slug), _positive(low, "low", slug=slug)
    if top is not None and bottom is not None and top < bottom:
        raise BadData(f"{slug}: ticker high {top} is below its low {bottom}")
    _check_range(slug, "last", last_price, bottom, top)
    _check_range(slug, "open", opened, bottom, top)
    best_bid, best_ask = _positive(bid, "bid", slug=slug), _positive(ask, "ask", slug=slug)
    if best_bid is not None and best_ask is not None and best_bid > best_ask:
        raise BadData(f"{slug}: crossed ticker (bid {best_bid} > ask {best_ask})")
    if open_time is not None and close_time is not None and epoch_of(open_time) > epoch_of(close_time):
        raise BadData(f"{slug}: ticker opens ({open_time}) after it closes ({close_time})")
    moved_pct = number(change_pct, "change_pct", slug=slug)
    if opened is not None:
        moved = _minus(last_price, opened) if moved is None else moved
        if moved_pct is None:
            moved_pct = round(_minus(last_price, opened) / opened * 100, CHANGE_PCT_DECIMALS)
    count = _amount(trades, "trades", slug=slug)
    return Ticker(
        id=params["id"], vs=params["vs"], pair=pair, last=last_price, open=opened, high=top, low=bottom,
        volume=_amount(volume, "volume", slug=slug), quote_volume=_amount(quote_volume, "quote_volume", slug=slug),
        change=moved, change_pct=moved_pct, vwap=_positive(vwap, "vwap", slug=slug),
        bid=best_bid, bid_size=_amount(bid_size, "bid_size", slug=slug),
        ask=best_ask, ask_size=_amount(ask_size, "ask_size", slug=slug),
        open_time=open_time, close_time=close_time, trades=None if count is None else int(count),
    ).to_dict()
