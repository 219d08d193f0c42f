"""Market depth records: candles (OHLCV) and order books, the same whichever exchange answered.

Adapters hand over raw rows (already read from the provider's own layout) and these builders
do the rest in one place, so every provider's answer is checked and shaped alike: numbers as
numbers, open times aligned to the interval's UTC boundary, oldest first, the forming candle
flagged `partial`, and implausible answers (high below low, a crossed book, a negative size)
rejected as bad data so the engine falls back instead of serving them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, RequestSpec, UnsupportedCapability
from providers.values import MAX_PLAUSIBLE_EPOCH_S, MIN_PLAUSIBLE_EPOCH_S, iso_from_epoch, number

# The intervals a caller may ask for, in seconds. Every provider's candles open on multiples
# of these counted from the Unix epoch (days at 00:00 UTC), so answers from different
# exchanges line up candle for candle.
INTERVAL_SECONDS: Mapping[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400}
CANDLES_DEFAULT_LIMIT = 100
CANDLES_MAX_LIMIT = 1000
ORDERBOOK_DEFAULT_DEPTH = 10
ORDERBOOK_MAX_DEPTH = 100
# Spread in percent of mid: float noise past 6 decimals means nothing.
SPREAD_PCT_DECIMALS = 6


@dataclass(frozen=True)
class Candle:
    """One OHLCV candle. volume is in the base asset (None when the provider gives none); partial is
    true for the candle still forming (its interval reaches past the newest time in the answer)."""

    open_time: str  # UTC ISO-8601 "…Z", on the interval boundary
    open: float
    high: float
    low: float
    close: float
    volume: float | None
    partial: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class OrderBook:
    """The top of one pair's order book: best prices, spread, and [price, size] levels best first."""

    id: str
    vs: str
    best_bid: float
    best_ask: float
    mid: float
    spread: float
    spread_pct: float  # spread in percent of mid
    bids: list[list[float]]  # highest price first
    asks: list[list[float]]  # lowest price first
    timestamp: str | None = None  # the book's own time, when the provider gives one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Each exchange adapter serves these capabilities through methods of these names; ExchangeDepth
# routes to them ahead of the adapter's own (price) code. The 24 h ticker (providers.tickers)
# rides the same route: every exchange that has a book has one.
DEPTH_REQUESTS: Mapping[str, str] = {"candles": "candles_request", "orderbook": "orderbook_request",
                                     "ticker": "ticker_request"}
DEPTH_PARSERS: Mapping[str, str] = {"candles": "parse_candles", "orderbook": "parse_orderbook",
                                    "ticker": "parse_ticker"}


class ExchangeDepth(Adapter):
    """An exchange adapter's candles, order book and ticker, each through its own method.

    An exchange adapter derives from this and hands every capability but its own (price) to
    `super()`, which lands here: the depth capabilities go to their methods, anything else to
    Adapter (unsupported)."""

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability in DEPTH_REQUESTS:
            return getattr(self, DEPTH_REQUESTS[capability])(params)
        return super().build_request(capability, params)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability in DEPTH_PARSERS:
            return getattr(self, DEPTH_PARSERS[capability])(params, payload)
        return super().parse(capability, params, payload)


# --- request helpers shared by the exchange adapters --------------------------------------------


def pair_for(pair_helper: Callable[..., Any], coin_id: str, vs: str | None = None) -> Any:
    """The adapter's own pair helper (the one its price code uses), with "not found" naming `id`:
    these endpoints take one coin as `id`, not a list as `ids`."""
    try:
        return pair_helper(coin_id) if vs is None else pair_helper(coin_id, vs)
    except NotFound as exc:
        raise NotFound(str(exc), field="id", values=[coin_id]) from None


def interval_code(codes: Mapping[str, Any], params: Mapping[str, Any], *, slug: str) -> Any:
    """The provider's name for the asked interval; a provider without it is unsupported (permanent),
    so the engine falls back to one that has it rather than serving other candles."""
    interval = params["interval"]
    if interval not in codes:
        raise UnsupportedCapability(f"{slug}: no {interval} candles (it offers {', '.join(codes)})")
    return codes[interval]


def check_limit(params: Mapping[str, Any], most: int, *, slug: str) -> int:
    limit = params["limit"]
    if limit > most:
        raise UnsupportedCapability(f"{slug}: at most {most} candles per call, asked {limit}")
    return limit


def window_end(params: Mapping[str, Any]) -> int | None:
    """Epoch seconds just past the last candle a request with `start` wants (None without start)."""
    start = params.get("start")
    return None if start is None else start + params["limit"] * INTERVAL_SECONDS[params["interval"]]


def book_rows(value: Any, side: str, *, slug: str) -> list[Sequence[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list | tuple) and len(row) >= 2 for row in value):
        raise BadData(f"{slug}: {side} is not a list of [price, size] levels")
    return value


# --- candles ------------------------------------------------------------------------------------


def _epoch_s(value: Any, *, slug: str, unit_ms: bool) -> int:
    seconds = number(value, "candle time", slug=slug)
    if seconds is None:
        raise BadData(f"{slug}: a candle has no time")
    seconds = seconds / 1000 if unit_ms else seconds
    if not MIN_PLAUSIBLE_EPOCH_S <= seconds < MAX_PLAUSIBLE_EPOCH_S:
        raise BadData(f"{slug}: implausible candle time {value!r}")
    return int(seconds)


def make_candles(
    rows: Iterable[Sequence[Any]],
    params: Mapping[str, Any],
    *,
    slug: str,
    unit_ms: bool = False,
    newest_s: float | None = None,
    partial: Mapping[int, bool] | None = None,
) -> list[dict[str, Any]]:
    """Validated candles, oldest first, from rows (time, open, high, low, close, volume) whose time
    is the candle's open. `newest_s` is the answer's own clock when the provider gives one;
    otherwise the newest candle's open, so the newest candle counts as forming (the safe reading:
    nothing in those answers says it has closed). `partial` maps open times to the provider's own
    flag (OKX's confirm), which wins. With `start`, the first `limit` candles from it; without,
    the last `limit`."""
    step = INTERVAL_SECONDS[params["interval"]]
    by_open: dict[int, tuple[float, float, float, float, float | None]] = {}
    for row in rows:
        if not isinstance(row, list | tuple) or len(row) < 6:
            raise BadData(f"{slug}: a candle row is not [time, open, high, low, close, volume]")
        opened = _epoch_s(row[0], slug=slug, unit_ms=unit_ms)
        if opened % step:
            raise BadData(f"{slug}: candle at {opened} is not on a {params['interval']} boundary")
        values = [number(v, name, slug=slug) for v, name in zip(row[1:5], ("open", "high", "low", "close"))]
        if any(v is None or v <= 0 for v in values):
            raise BadData(f"{slug}: a candle price is missing or not positive at {opened}")
        o, h, low, c = values
        if h < low or not low <= o <= h or not low <= c <= h:
            raise BadData(f"{slug}: candle at {opened} has open/close outside [low, high] or high < low")
        volume = number(row[5], "volume", slug=slug)
        if volume is not None and volume < 0:
            raise BadData(f"{slug}: negative volume at {opened}")
        by_open[opened] = (o, h, low, c, volume)
    opens = sorted(by_open)
    start = params.get("start")
    if start is not None:
        opens = [t for t in opens if t >= start][: params["limit"]]
    else:
        opens = opens[-params["limit"]:]
    if not opens:
        raise NotFound(f"{slug}: no candles for {params['id']}/{params['vs']} at that time", field="id",
                       values=[params["id"]])
    newest = newest_s if newest_s is not None else max(by_open)
    candles = []
    for t in opens:
        forming = partial[t] if partial and t in partial else t + step > newest
        o, h, low, c, volume = by_open[t]
        candles.append(Candle(iso_from_epoch(t, slug=slug), o, h, low, c, volume, forming).to_dict())
    return candles


# --- order books ----------------------------------------------------------------------------


def _levels(rows: Iterable[Sequence[Any]], side: str, depth: int, *, slug: str, descending: bool) -> list[list[float]]:
    levels = []
    for row in rows:
        price, size = number(row[0], f"{side} price", slug=slug), number(row[1], f"{side} size", slug=slug)
        if price is None or size is None or price <= 0 or size <= 0:
            raise BadData(f"{slug}: {side} level {list(row)[:2]!r} has a non-positive price or size")
        levels.append([price, size])
    if not levels:
        raise BadData(f"{slug}: the book has no {side}")
    levels.sort(key=lambda level: level[0], reverse=descending)
    return levels[:depth]


def make_orderbook(
    *, slug: str, params: Mapping[str, Any], bids: Iterable[Sequence[Any]], asks: Iterable[Sequence[Any]],
    timestamp: str | None = None,
) -> dict[str, Any]:
    """A validated OrderBook from [price, size, ...] rows in any order; a crossed book is bad data."""
    depth = params["depth"]
    bid_levels = _levels(bids, "bids", depth, slug=slug, descending=True)
    ask_levels = _levels(asks, "asks", depth, slug=slug, descending=False)
    best_bid, best_ask = bid_levels[0][0], ask_levels[0][0]
    if best_bid >= best_ask:
        raise BadData(f"{slug}: crossed book (best bid {best_bid} >= best ask {best_ask})")
    # Subtracting the printed decimals, not the binary floats, keeps the spread free of float noise.
    spread = float(Decimal(repr(best_ask)) - Decimal(repr(best_bid)))
    mid = float((Decimal(repr(best_ask)) + Decimal(repr(best_bid))) / 2)
    return OrderBook(
        id=params["id"], vs=params["vs"], best_bid=best_bid, best_ask=best_ask, mid=mid,
        spread=spread, spread_pct=round(spread / mid * 100, SPREAD_PCT_DECIMALS),
        bids=bid_levels, asks=ask_levels, timestamp=timestamp,
    ).to_dict()


def book_of(side_lists: Mapping[str, Any], *, slug: str, params: Mapping[str, Any],
            timestamp: str | None = None) -> dict[str, Any]:
    """make_orderbook for the common {"bids": [[price, size, ...]], "asks": [...]} layout."""
    bids = book_rows(side_lists.get("bids"), "bids", slug=slug)
    asks = book_rows(side_lists.get("asks"), "asks", slug=slug)
    return make_orderbook(slug=slug, params=params, bids=bids, asks=asks, timestamp=timestamp)
