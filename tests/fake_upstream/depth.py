"""Candles and order books of the fake exchanges, derived from the price table and the fake's clock.

Every provider draws from one series per pair: candles open on the interval's UTC boundaries,
the one holding "now" is still forming and closes at the table's current price, and each
candle opens where the previous one closed, so exchanges agree candle for candle in their own
row layouts. A book is centred on the same price. `with_depth` puts these answers in front of
each exchange's own handler; an unlisted pair fails the way that exchange fails it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime

from tests.fake_upstream import coins
from tests.fake_upstream.exchanges import _bitfinex_split, _pair_facts
from tests.fake_upstream.market import STATE, Answer, _coin_of, _decimal, _q, _split_pair, _vs_of, iso_z

Handler = Callable[[str, dict, float], Answer]
MINUTES = {"1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "2h": 7200, "4h": 14400, "6h": 21600,
           "12h": 43200, "1d": 86400, "1D": 86400, "1H": 3600, "4H": 14400}
MOVE = 0.004  # how far the series wanders from the current price (a fraction)
HALF_SPREAD = 0.00005  # of the price: a one basis point spread
TICK = 0.0001  # of the price, between book levels
# What Coinbase Exchange answers over its public limit.
RATE_LIMIT_BODY = {"coinbase_exchange": {"message": "Public rate limit exceeded"}}


# --- one series and one book per pair ---------------------------------------------------------------


def _close(price: float, opened: int, step: int, newest: int) -> float:
    # A slow wave through the open times, scaled so the newest candle closes at `price`.
    def wave(t: int) -> float:
        return 1 + MOVE * math.sin(t / (step * 3))
    return round(price * wave(opened) / wave(newest), 8)


def candles(facts: dict[str, float], step: int, now: float, *, limit: int, start: float | None = None,
            end: float | None = None) -> list[tuple[int, float, float, float, float, float]]:
    """(open time s, open, high, low, close, base volume), oldest first, never past the forming one."""
    price, newest = facts["price"], int(now // step) * step
    # `end` is exclusive: the last candle opens before it.
    last = newest if end is None else min(newest, (math.ceil(end) - 1) // step * step)
    if start is None:
        first = last - (limit - 1) * step
    else:
        first = -(-int(start) // step) * step
        last = min(last, first + (limit - 1) * step)
    volume = round(facts["volume"] / price * step / 86400, 6)
    rows = []
    for opened in range(first, last + 1, step):
        o, c = _close(price, opened - step, step, newest), _close(price, opened, step, newest)
        rows.append((opened, o, round(max(o, c) * 1.001, 8), round(min(o, c) * 0.999, 8), c, volume))
    return rows


def book(facts: dict[str, float], depth: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    price = facts["price"]
    bids = [(round(price * (1 - HALF_SPREAD - n * TICK), 8), round(0.5 + n * 0.1, 4)) for n in range(depth)]
    asks = [(round(price * (1 + HALF_SPREAD + n * TICK), 8), round(0.4 + n * 0.1, 4)) for n in range(depth)]
    return bids, asks


def _int(query: dict, name: str, default: int) -> int:
    raw = _q(query, name)
    return int(float(raw)) if raw else default


def _epoch(iso: str) -> float | None:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() if iso else None


def _facts(slug: str, base: str, quote: str) -> dict[str, float] | None:
    coin_id = _coin_of(base)
    return STATE.facts(slug, coin_id, _vs_of(quote)) if coin_id else None


# --- each exchange's endpoints ---------------------------------------------------------------------


def binance(rest: str, query: dict, now: float, slug: str = "binance") -> Answer | None:
    if rest not in ("/api/v3/klines", "/api/v3/depth"):
        return None
    split = _split_pair(_q(query, "symbol"))
    facts = _facts(slug, *split) if split else None
    if facts is None:
        return 400, {"code": -1121, "msg": "Invalid symbol."}, {}
    if rest == "/api/v3/depth":
        bids, asks = book(facts, _int(query, "limit", 100))
        return 200, {"lastUpdateId": 1027024, "bids": [[_decimal(p), _decimal(s)] for p, s in bids],
                     "asks": [[_decimal(p), _decimal(s)] for p, s in asks]}, {}
    step = MINUTES[_q(query, "interval")]
    start = _int(query, "startTime", 0) / 1000 or None
    rows = candles(facts, step, now, limit=_int(query, "limit", 500), start=start)
    return 200, [[t * 1000, _decimal(o), _decimal(h), _decimal(low), _decimal(c), _decimal(v),
                  (t + step) * 1000 - 1, _decimal(round(v * c, 2)), 100, "0", "0", "0"]
                 for t, o, h, low, c, v in rows], {}


def kraken(rest: str, query: dict, now: float) -> Answer | None:
    if rest not in ("/0/public/OHLC", "/0/public/Depth"):
        return None
    pair = _q(query, "pair").upper()
    split = _split_pair(pair)
    facts = _facts("kraken", *split) if split else None
    if facts is None:
        return 200, {"error": ["EQuery:Unknown asset pair"]}, {}
    key = coins.kraken_result_key(*split)
    if rest == "/0/public/Depth":
        bids, asks = book(facts, _int(query, "count", 100))
        stamp = int(now)
        return 200, {"error": [], "result": {key: {
            "bids": [[_decimal(p), _decimal(s), stamp] for p, s in bids],
            "asks": [[_decimal(p), _decimal(s), stamp] for p, s in asks]}}}, {}
    step = _int(query, "interval", 1) * 60
    since = _int(query, "since", 0)
    rows = candles(facts, step, now, limit=720, start=since + 1 if since else None)
    ohlc = [[t, _decimal(o), _decimal(h), _decimal(low), _decimal(c), _decimal(c), _decimal(v), 42]
            for t, o, h, low, c, v in rows]
    # `last` is the newest committed candle: the one before the forming frame.
    return 200, {"error": [], "result": {key: ohlc, "last": int(now // step) * step - step}}, {}


def coinbase_exchange(rest: str, query: dict, now: float) -> Answer | None:
    match = re.fullmatch(r"/products/([A-Z0-9]+)-([A-Z]+)/(candles|book)", rest)
    if match is None:
        return None
    facts = _facts("coinbase_exchange", match[1], match[2])
    if facts is None:
        return 404, {"message": "NotFound"}, {}
    if match[3] == "book":
        bids, asks = book(facts, 50)
        return 200, {"bids": [[_decimal(p), _decimal(s), 3] for p, s in bids],
                     "asks": [[_decimal(p), _decimal(s), 2] for p, s in asks], "sequence": 13051505638,
                     "auction_mode": False, "auction": None, "time": iso_z(now)}, {}
    step = _int(query, "granularity", 60)
    start, end = (_epoch(_q(query, name)) for name in ("start", "end"))
    rows = candles(facts, step, now, limit=300, start=start, end=end)
    # Newest first, as [time, low, high, open, close, volume] numbers.
    return 200, [[t, low, h, o, c, v] for t, o, h, low, c, v in reversed(rows)], {}


def okx(rest: str, query: dict, now: float) -> Answer | None:
    if rest not in ("/api/v5/market/candles", "/api/v5/market/books"):
        return None
    facts = _pair_facts("okx", *_q(query, "instId").partition("-")[::2])
    if facts is None:
        return 200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}, {}
    if rest == "/api/v5/market/books":
        bids, asks = book(facts, _int(query, "sz", 1))
        return 200, {"code": "0", "msg": "", "data": [{
            "bids": [[_decimal(p), _decimal(s), "0", "4"] for p, s in bids],
            "asks": [[_decimal(p), _decimal(s), "0", "3"] for p, s in asks], "ts": str(int(now * 1000))}]}, {}
    bar = _q(query, "bar", "1m")
    step = MINUTES[bar.removesuffix("utc")]
    after = _int(query, "after", 0) / 1000 or None
    rows = candles(facts, step, now, limit=_int(query, "limit", 100), end=after)
    newest = int(now // step) * step
    return 200, {"code": "0", "msg": "", "data": [
        [str(t * 1000), _decimal(o), _decimal(h), _decimal(low), _decimal(c), _decimal(v), _decimal(round(v * c, 2)),
         _decimal(round(v * c, 2)), "0" if t == newest else "1"] for t, o, h, low, c, v in reversed(rows)]}, {}


def kucoin(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/api/v1/market/candles" and not rest.startswith("/api/v1/market/orderbook/level2_"):
        return None
    facts = _pair_facts("kucoin", *_q(query, "symbol").partition("-")[::2])
    if facts is None:
        return 200, {"code": "200000", "data": None}, {}
    if rest != "/api/v1/market/candles":
        bids, asks = book(facts, int(rest.rsplit("_", 1)[1]))
        return 200, {"code": "200000", "data": {
            "time": int(now * 1000), "sequence": "14691455768",
            "bids": [[_decimal(p), _decimal(s)] for p, s in bids],
            "asks": [[_decimal(p), _decimal(s)] for p, s in asks]}}, {}
    step = MINUTES[_q(query, "type").replace("min", "m").replace("hour", "h").replace("day", "d")]
    start, end = _int(query, "startAt", 0) or None, _int(query, "endAt", 0) or None
    rows = candles(facts, step, now, limit=1500, start=start, end=end)
    # Newest first, as [time, open, close, high, low, volume, turnover] strings.
    return 200, {"code": "200000", "data": [
        [str(t), _decimal(o), _decimal(c), _decimal(h), _decimal(low), _decimal(v), _decimal(round(v * c, 2))]
        for t, o, h, low, c, v in reversed(rows)]}, {}


def bitfinex(rest: str, query: dict, now: float) -> Answer | None:
    match = re.fullmatch(r"/candles/trade:(\w+):(t[\w:]+)/hist|/book/(t[\w:]+)/P0", rest)
    if match is None:
        return None
    split = _bitfinex_split(match[2] or match[3])
    facts = _pair_facts("bitfinex", *split) if split else None
    if facts is None:
        return 200, [], {}  # Bitfinex answers an unknown symbol with an empty list
    if not match[1]:
        bids, asks = book(facts, _int(query, "len", 25))
        return 200, [[p, 2, s] for p, s in bids] + [[p, 1, -s] for p, s in asks], {}
    step = MINUTES[match[1]]
    start = _int(query, "start", 0) / 1000 or None
    rows = candles(facts, step, now, limit=_int(query, "limit", 100), start=start)
    ordered = rows if _q(query, "sort") == "1" else list(reversed(rows))
    # [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME] numbers.
    return 200, [[t * 1000, o, c, h, low, v] for t, o, h, low, c, v in ordered], {}


def coingecko(rest: str, query: dict, now: float) -> Answer | None:
    match = re.fullmatch(r"/coins/([a-z0-9-]+)/ohlc", rest)
    if match is None:
        return None
    facts = STATE.facts("coingecko", match[1], _q(query, "vs_currency", "usd"))
    if facts is None:
        return 404, {"error": "coin not found"}, {}
    days = _int(query, "days", 1)
    step = 14400 if 2 < days <= 30 else (1800 if days <= 2 else 345600)
    rows = candles(facts, step, now, limit=days * 86400 // step)
    # The time of a row is its candle's close; the forming candle's is now.
    return 200, [[min((t + step), int(now)) * 1000, o, h, low, c] for t, o, h, low, c, _ in rows], {}


DEPTH_HANDLERS: dict[str, Callable[[str, dict, float], Answer | None]] = {
    "binance": binance, "kraken": kraken, "coinbase_exchange": coinbase_exchange, "okx": okx, "kucoin": kucoin,
    "bitfinex": bitfinex, "coingecko": coingecko,
}


def with_depth(providers: dict[str, Handler], fallback: Handler,
               handlers: dict[str, Callable[[str, dict, float], Answer | None]] = DEPTH_HANDLERS) -> dict[str, Handler]:
    """The provider table with candle and book answers (or other `handlers`, which answer None for
    a path they do not know) in front of each exchange's own handler."""
    def chained(slug: str) -> Handler:
        depth, own = handlers[slug], providers.get(slug)

        def answer(rest: str, query: dict, now: float) -> Answer:
            found = depth(rest, query, now)
            if found is not None:
                return found
            return own(rest, query, now) if own else fallback(slug, rest)
        return answer
    return {**providers, **{slug: chained(slug) for slug in handlers}}
