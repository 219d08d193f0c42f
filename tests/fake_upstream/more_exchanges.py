"""Bitstamp, Gemini, Bybit and Gate.io: prices, 24 h tickers, order books and candles from the price
table, in each exchange's own layout.

Candles and books come from depth.py's one series and one book per pair, tickers from
market.day_range, so these exchanges agree with the others candle for candle. The pairs each lists
are exchanges.listed_pairs (Bitstamp and Gemini on USD books, Bybit and Gate.io on USDT ones), and
an unlisted pair fails the way that exchange fails it. Their listings are in listings.py.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fake_upstream.depth import MINUTES, book, candles
from tests.fake_upstream.exchanges import _pair_facts, listed_pairs
from tests.fake_upstream.market import Answer, _decimal, _q, _split_pair, day_range, generic_answer

# Each exchange's share of the table's (all-market) 24 h volume.
VOLUME_SHARE = {"bitstamp": 1 / 40, "gemini": 1 / 60, "bybit": 1 / 12, "gateio": 1 / 18}
# What Gemini's candle calls answer: a fixed recent span, whatever the caller wants.
GEMINI_CANDLES = 500
BITSTAMP_404 = (b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
                b"<body><h1>Not Found</h1></body></html>")
BYBIT_STEPS = {"1": 60, "3": 180, "5": 300, "15": 900, "30": 1800, "60": 3600, "120": 7200, "240": 14400,
               "360": 21600, "720": 43200, "D": 86400}
GEMINI_STEPS = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1hr": 3600, "6hr": 21600, "1day": 86400}


def _int(query: dict, name: str, default: int) -> int:
    raw = _q(query, name)
    return int(float(raw)) if raw else default


def _facts(slug: str, pair: str) -> dict[str, float] | None:
    split = pair.partition("_")[::2] if "_" in pair else _split_pair(pair.upper())
    return _pair_facts(slug, *split) if split else None


def _levels(rows: list[tuple[float, float]]) -> list[list[str]]:
    return [[_decimal(p), _decimal(s)] for p, s in rows]


def _ticker_numbers(slug: str, facts: dict[str, float]) -> dict[str, float]:
    opened, high, low = day_range(facts)
    base = facts["volume"] / facts["price"] * VOLUME_SHARE[slug]
    return {"price": facts["price"], "open": round(opened, 8), "high": round(high, 8), "low": round(low, 8),
            "base": round(base, 8), "quote": round(base * facts["price"], 2), "change": facts["change"]}


# --- Bitstamp: lower-case url symbols, every number a string ----------------------------------------


def _bitstamp_ticker(facts: dict[str, float], now: float) -> dict[str, str]:
    t = _ticker_numbers("bitstamp", facts)
    # `open` is the day's first price; open_24 the price 24 h ago.
    return {"timestamp": str(int(now)), "open": _decimal(t["price"]), "high": _decimal(t["high"]),
            "low": _decimal(t["low"]), "last": _decimal(t["price"]), "volume": _decimal(t["base"]),
            "vwap": _decimal(t["price"]), "bid": _decimal(t["price"]), "ask": _decimal(t["price"]), "side": "0",
            "open_24": _decimal(t["open"]), "percent_change_24": f"{t['change']:.2f}"}


def bitstamp(rest: str, query: dict, now: float) -> Answer:
    if rest == "/ticker/":
        return 200, [{**_bitstamp_ticker(facts, now), "pair": f"{base}/{quote}", "market_type": "SPOT"}
                     for base, quote in listed_pairs("bitstamp") if (facts := _pair_facts("bitstamp", base, quote))], {}
    match = re.fullmatch(r"/(ticker|order_book|ohlc)/([a-z0-9]+)/", rest)
    if match is None:
        return generic_answer("bitstamp", rest)
    facts = _facts("bitstamp", match[2])
    if facts is None:
        return 404, BITSTAMP_404, {"content-type": "text/html"}  # the pair is part of the path
    if match[1] == "ticker":
        return 200, _bitstamp_ticker(facts, now), {}
    if match[1] == "order_book":
        bids, asks = book(facts, 100)
        return 200, {"timestamp": str(int(now)), "microtimestamp": str(int(now * 1e6)), "bids": _levels(bids),
                     "asks": _levels(asks)}, {}
    step, start = _int(query, "step", 60), _int(query, "start", 0) or None
    rows = candles(facts, step, now, limit=_int(query, "limit", 100), start=start)
    base, quote = _split_pair(match[2].upper())
    return 200, {"data": {"pair": f"{base}/{quote}", "ohlc": [
        {"high": _decimal(h), "timestamp": str(t), "volume": _decimal(v), "low": _decimal(low), "close": _decimal(c),
         "open": _decimal(o)} for t, o, h, low, c, v in rows]}}, {}


# --- Gemini: lower-case symbols; errors as {"result": "error", "reason", "message"} ------------------


def gemini(rest: str, query: dict, now: float) -> Answer:
    if rest == "/v1/pricefeed":
        return 200, [{"pair": base + quote, "price": _decimal(facts["price"]),
                      "percentChange24h": f"{facts['change'] / 100:.4f}"}
                     for base, quote in listed_pairs("gemini") if (facts := _pair_facts("gemini", base, quote))], {}
    match = re.fullmatch(r"/v2/ticker/(\w+)|/v1/book/(\w+)|/v2/candles/(\w+)/(\w+)", rest)
    if match is None:
        return generic_answer("gemini", rest)
    symbol = match[1] or match[2] or match[3]
    facts = _facts("gemini", symbol)
    if facts is None:
        return 400, {"result": "error", "reason": "InvalidSymbol",
                     "message": f"Supplied value '{symbol}' is not a valid symbol"}, {}
    if match[1]:
        t = _ticker_numbers("gemini", facts)
        hourly = [_decimal(round(t["price"] + (t["open"] - t["price"]) * n / 23, 8)) for n in range(24)]
        return 200, {"symbol": symbol.upper(), "open": _decimal(t["open"]), "high": _decimal(t["high"]),
                     "low": _decimal(t["low"]), "close": _decimal(t["price"]), "changes": hourly,
                     "bid": _decimal(t["price"]), "ask": _decimal(t["price"])}, {}
    if match[2]:
        bids, asks = book(facts, _int(query, "limit_bids", 50))
        stamp = str(int(now))
        return 200, {"bids": [{"price": _decimal(p), "amount": _decimal(s), "timestamp": stamp} for p, s in bids],
                     "asks": [{"price": _decimal(p), "amount": _decimal(s), "timestamp": stamp} for p, s in asks]}, {}
    if match[4] not in GEMINI_STEPS:
        return 400, {"result": "error", "reason": "InvalidParameter", "message": f"bad time frame {match[4]}"}, {}
    rows = candles(facts, GEMINI_STEPS[match[4]], now, limit=GEMINI_CANDLES)
    # Numbers, newest first.
    return 200, [[t * 1000, o, h, low, c, v] for t, o, h, low, c, v in reversed(rows)], {}


# --- Bybit v5: {"retCode", "retMsg", "result", "time"}, every value a string -------------------------


def _bybit(result: Any, now: float, code: int = 0, message: str = "OK") -> Answer:
    return 200, {"retCode": code, "retMsg": message, "result": result, "retExtInfo": {},
                 "time": int(now * 1000)}, {}


def _bybit_ticker(symbol: str, facts: dict[str, float]) -> dict[str, str]:
    t = _ticker_numbers("bybit", facts)
    price = _decimal(t["price"])
    return {"symbol": symbol, "bid1Price": price, "bid1Size": "1.204", "ask1Price": price, "ask1Size": "0.403",
            "lastPrice": price, "prevPrice24h": _decimal(t["open"]), "price24hPcnt": f"{t['change'] / 100:.4f}",
            "highPrice24h": _decimal(t["high"]), "lowPrice24h": _decimal(t["low"]), "turnover24h": _decimal(t["quote"]),
            "volume24h": _decimal(t["base"]), "usdIndexPrice": price}


def bybit(rest: str, query: dict, now: float) -> Answer:
    if rest not in ("/v5/market/tickers", "/v5/market/orderbook", "/v5/market/kline"):
        return generic_answer("bybit", rest)
    if _q(query, "category") != "spot":
        return _bybit({}, now, 10001, "Illegal category")
    symbol = _q(query, "symbol")
    if rest == "/v5/market/tickers" and not symbol:
        return _bybit({"category": "spot", "list": [
            _bybit_ticker(base + quote, facts) for base, quote in listed_pairs("bybit")
            if (facts := _pair_facts("bybit", base, quote))]}, now)
    facts = _facts("bybit", symbol)
    if facts is None:
        return _bybit({}, now, 10001, "Not supported symbols")  # inside HTTP 200, as Bybit answers it
    if rest == "/v5/market/tickers":
        return _bybit({"category": "spot", "list": [_bybit_ticker(symbol, facts)]}, now)
    if rest == "/v5/market/orderbook":
        bids, asks = book(facts, _int(query, "limit", 1))
        return _bybit({"s": symbol, "b": _levels(bids), "a": _levels(asks), "ts": int(now * 1000), "u": 4865171,
                       "seq": 34791282946, "cts": int(now * 1000) - 5}, now)
    step = BYBIT_STEPS[_q(query, "interval", "1")]
    start = _int(query, "start", 0) / 1000 or None
    end = (_int(query, "end", 0) + 1) / 1000 if _q(query, "end") else None  # end is inclusive
    rows = candles(facts, step, now, limit=_int(query, "limit", 200), start=start, end=end)
    # Newest first: [start ms, open, high, low, close, volume, turnover].
    return _bybit({"symbol": symbol, "category": "spot", "list": [
        [str(t * 1000), _decimal(o), _decimal(h), _decimal(low), _decimal(c), _decimal(v), _decimal(round(v * c, 2))]
        for t, o, h, low, c, v in reversed(rows)]}, now)


# --- Gate.io v4: BASE_QUOTE pairs; errors as {"label", "message"} with a 4xx ----------------------------


def _gateio_ticker(pair: str, facts: dict[str, float]) -> dict[str, Any]:
    t = _ticker_numbers("gateio", facts)
    price = _decimal(t["price"])
    return {"currency_pair": pair, "last": price, "lowest_ask": price, "lowest_size": "0.3021", "highest_bid": price,
            "highest_size": "1.0512", "change_percentage": f"{t['change']:.2f}", "change_utc0": "0.4",
            "change_utc8": "0.6", "base_volume": _decimal(t["base"]), "quote_volume": _decimal(t["quote"]),
            "high_24h": _decimal(t["high"]), "low_24h": _decimal(t["low"]), "etf_net_value": "",
            "etf_pre_net_value": "", "etf_pre_timestamp": 0, "etf_leverage": ""}


def gateio(rest: str, query: dict, now: float) -> Answer:
    if rest not in ("/spot/tickers", "/spot/order_book", "/spot/candlesticks"):
        return generic_answer("gateio", rest)
    pair = _q(query, "currency_pair")
    if rest == "/spot/tickers" and not pair:
        return 200, [_gateio_ticker(f"{base}_{quote}", facts) for base, quote in listed_pairs("gateio")
                     if (facts := _pair_facts("gateio", base, quote))], {}
    facts = _facts("gateio", pair) if "_" in pair else None
    if facts is None:
        return 400, {"label": "INVALID_CURRENCY_PAIR", "message": f"Invalid currency pair {pair}"}, {}
    if rest == "/spot/tickers":
        return 200, [_gateio_ticker(pair, facts)], {}
    if rest == "/spot/order_book":
        bids, asks = book(facts, _int(query, "limit", 10))
        return 200, {"id": 20118345, "current": int(now * 1000), "update": int(now * 1000) - 3,
                     "asks": _levels(asks), "bids": _levels(bids)}, {}
    if _q(query, "limit") and (_q(query, "from") or _q(query, "to")):
        return 400, {"label": "INVALID_PARAM_VALUE", "message": "limit is conflicted with from and to"}, {}
    step = MINUTES[_q(query, "interval", "30m")]
    start = _int(query, "from", 0) or None
    end = _int(query, "to", 0) + 1 if _q(query, "to") else None  # `to` is inclusive
    rows = candles(facts, step, now, limit=_int(query, "limit", 100) if start is None else 1000, start=start, end=end)
    newest = int(now // step) * step
    # Oldest first: [time s, quote volume, close, high, low, open, base volume, window closed] strings.
    return 200, [[str(t), _decimal(round(v * c, 2)), _decimal(c), _decimal(h), _decimal(low), _decimal(o),
                  _decimal(v), "false" if t == newest else "true"] for t, o, h, low, c, v in rows], {}


PROVIDERS = {"bitstamp": bitstamp, "gemini": gemini, "bybit": bybit, "gateio": gateio}
