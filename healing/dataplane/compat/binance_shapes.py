"""Binance's answer shapes, built from the normalized records (pure: no I/O, no clock).

Field names and their order are Binance's; prices and quantities are decimal strings with eight
places, as Binance prints them, and times are epoch milliseconds. A value no exchange gives (a
kline's taker volumes, a ticker's trade ids) is null, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from healing.dataplane.compat.binance_symbols import SpotPair

# Binance prints prices and quantities with eight decimals and a percent change with three.
DECIMALS = 8
PCT_DECIMALS = 3
# avgPrice: Binance's is the average over the last five minutes.
AVG_PRICE_MINUTES = 5

# --- exchangeInfo: what a client reads about each symbol ------------------------------------------
# No provider here says what Binance's own filters are, so every symbol gets generic, permissive
# values: the finest tick and step Binance uses (1e-8), bounds no real order reaches, and a 1-unit
# minimum notional. Clients use them to round and validate orders; this gateway places none, so
# a loose filter can only let a client's own check pass, never reject a valid price or amount.
ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]
FINEST_STEP = "0.00000001"
FILTERS = [
    {"filterType": "PRICE_FILTER", "minPrice": FINEST_STEP, "maxPrice": "1000000000.00000000",
     "tickSize": FINEST_STEP},
    {"filterType": "LOT_SIZE", "minQty": FINEST_STEP, "maxQty": "9000000000.00000000", "stepSize": FINEST_STEP},
    {"filterType": "NOTIONAL", "minNotional": "1.00000000", "applyMinToMarket": True,
     "maxNotional": "9000000000.00000000", "applyMaxToMarket": False, "avgPriceMins": AVG_PRICE_MINUTES},
]
STP_MODES = ["NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH"]


def decimal(value: float | None, places: int = DECIMALS) -> str | None:
    return None if value is None else f"{value:.{places}f}"


def millis(iso: str | None) -> int | None:
    """Epoch milliseconds of a record's "…Z" time."""
    if iso is None:
        return None
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def symbol_info(pair: SpotPair, *, permission_sets: bool = True) -> dict[str, Any]:
    info: dict[str, Any] = {
        "symbol": pair.symbol, "status": "TRADING", "baseAsset": pair.base, "baseAssetPrecision": DECIMALS,
        "quoteAsset": pair.quote, "quotePrecision": DECIMALS, "quoteAssetPrecision": DECIMALS,
        "baseCommissionPrecision": DECIMALS, "quoteCommissionPrecision": DECIMALS, "orderTypes": ORDER_TYPES,
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False, "filters": FILTERS, "permissions": ["SPOT"],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER", "allowedSelfTradePreventionModes": STP_MODES,
    }
    if permission_sets:
        info["permissionSets"] = [["SPOT"]]
    return info


def exchange_info(symbols: list[dict[str, Any]], server_ms: int) -> dict[str, Any]:
    # No rateLimits: the gateway's own limits are per client key and ride on every answer's
    # RateLimit-* headers; Binance's weights would promise a budget that is not there.
    return {"timezone": "UTC", "serverTime": server_ms, "rateLimits": [], "exchangeFilters": [],
            "symbols": symbols}


# --- tickers ----------------------------------------------------------------------------------------


def ticker_price(symbol: str, ticker: Mapping[str, Any]) -> dict[str, Any]:
    return {"symbol": symbol, "price": decimal(ticker["last"])}


def ticker_24hr(symbol: str, ticker: Mapping[str, Any], *, mini: bool = False) -> dict[str, Any]:
    """Binance's 24 h statistics (FULL, or MINI without the change, averages and book fields)."""
    times = {"openTime": millis(ticker.get("open_time")), "closeTime": millis(ticker.get("close_time")),
             # Trade ids are the exchange's own; none of the others gives them.
             "firstId": None, "lastId": None, "count": ticker.get("trades")}
    prices = {"openPrice": decimal(ticker.get("open")), "highPrice": decimal(ticker.get("high")),
              "lowPrice": decimal(ticker.get("low")), "lastPrice": decimal(ticker["last"]),
              "volume": decimal(ticker.get("volume")), "quoteVolume": decimal(ticker.get("quote_volume"))}
    if mini:
        return {"symbol": symbol, **prices, **times}
    return {
        "symbol": symbol, "priceChange": decimal(ticker.get("change")),
        "priceChangePercent": decimal(ticker.get("change_pct"), PCT_DECIMALS),
        "weightedAvgPrice": decimal(ticker.get("vwap")),
        # Binance's prevClosePrice is the last price before the window opened: the window's open.
        "prevClosePrice": decimal(ticker.get("open")),
        "lastPrice": prices["lastPrice"], "lastQty": None,
        "bidPrice": decimal(ticker.get("bid")), "bidQty": decimal(ticker.get("bid_size")),
        "askPrice": decimal(ticker.get("ask")), "askQty": decimal(ticker.get("ask_size")),
        **{k: v for k, v in prices.items() if k != "lastPrice"}, **times,
    }


# --- order books --------------------------------------------------------------------------------------


def _levels(levels: Iterable[Sequence[float]]) -> list[list[str | None]]:
    return [[decimal(price), decimal(size)] for price, size, *_ in levels]


def depth(book: Mapping[str, Any]) -> dict[str, Any]:
    # lastUpdateId is Binance's book sequence; the book's own time in ms is the closest thing the
    # other exchanges give (0 when the exchange gives no time either).
    return {"lastUpdateId": millis(book.get("timestamp")) or 0, "bids": _levels(book["bids"]),
            "asks": _levels(book["asks"])}


def book_ticker(symbol: str, book: Mapping[str, Any]) -> dict[str, Any]:
    (bid, bid_size, *_), (ask, ask_size, *_) = book["bids"][0], book["asks"][0]
    return {"symbol": symbol, "bidPrice": decimal(bid), "bidQty": decimal(bid_size), "askPrice": decimal(ask),
            "askQty": decimal(ask_size)}


# --- klines ---------------------------------------------------------------------------------------------


def klines(candles: Iterable[Mapping[str, Any]], step_s: int, end_ms: int | None = None) -> list[list[Any]]:
    """[open time, open, high, low, close, volume, close time, quote volume, trades, taker buy base,
    taker buy quote, ignore]: the candle record has no quote volume, trade count or taker split, so
    those are null (the last field is Binance's unused "0")."""
    rows = []
    for candle in candles:
        opened = millis(candle["open_time"])
        if end_ms is not None and opened > end_ms:
            break  # oldest first: every later candle opens after endTime too
        rows.append([opened, decimal(candle["open"]), decimal(candle["high"]), decimal(candle["low"]),
                     decimal(candle["close"]), decimal(candle["volume"]), opened + step_s * 1000 - 1,
                     None, None, None, None, "0"])
    return rows


def avg_price(candles: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Binance's 5-minute average price, from the last five 1-minute candles: weighted by each
    candle's volume at its typical price (high + low + close) / 3, the closest a candle gets to
    Binance's trade-weighted average; the plain mean of the closes where a volume is missing."""
    recent = list(candles)[-AVG_PRICE_MINUTES:]
    volumes = [c["volume"] for c in recent]
    if all(v is not None for v in volumes) and sum(volumes) > 0:
        price = sum((c["high"] + c["low"] + c["close"]) / 3 * c["volume"] for c in recent) / sum(volumes)
    else:
        price = sum(c["close"] for c in recent) / len(recent)
    close_ms = millis(recent[-1]["open_time"]) + 60_000 - 1
    return {"mins": AVG_PRICE_MINUTES, "price": decimal(price), "closeTime": close_ms}
