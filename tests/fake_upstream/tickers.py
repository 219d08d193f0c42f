"""One pair's 24 h ticker where the price answers have no such call: Coinbase Exchange's
/products/{id}/stats, KuCoin's /api/v1/market/stats and Bitfinex's /ticker/{symbol}.

Derived from the price table like every other answer (market.day_range gives the open 24 h ago
and a range holding it and the current price), in each exchange's own layout, and an unlisted
pair fails the way that exchange fails it. Binance's /ticker/24hr, OKX's /market/ticker and
Kraken's /Ticker are the price answers' own (market.py, exchanges.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.fake_upstream.exchanges import _bitfinex_split, _pair_facts
from tests.fake_upstream.market import STATE, Answer, _coin_of, _decimal, _q, _vs_of, day_range

# Each exchange's share of the table's (all-market) 24 h volume.
VOLUME_SHARE = {"coinbase_exchange": 1 / 15, "kucoin": 1 / 20, "bitfinex": 1 / 25}


def coinbase_exchange(rest: str, query: dict, now: float) -> Answer | None:
    match = re.fullmatch(r"/products/([A-Z0-9]+)-([A-Z]+)/stats", rest)
    if match is None:
        return None
    coin_id = _coin_of(match[1])
    facts = STATE.facts("coinbase_exchange", coin_id, _vs_of(match[2])) if coin_id else None
    if facts is None:
        return 404, {"message": "NotFound"}, {}
    opened, high, low = day_range(facts)
    volume = facts["volume"] / facts["price"] * VOLUME_SHARE["coinbase_exchange"]
    # Every value a string; volume is in the base currency, the rest in the quote.
    return 200, {"open": _decimal(round(opened, 8)), "high": _decimal(round(high, 8)), "low": _decimal(round(low, 8)),
                 "last": _decimal(facts["price"]), "volume": f"{volume:.8f}", "volume_30day": f"{volume * 30:.8f}",
                 "rfq_volume_24hour": "0.00000000", "rfq_volume_30day": "0.00000000",
                 "conversions_volume_24hour": "0.00000000", "conversions_volume_30day": "0.00000000"}, {}


def kucoin(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/api/v1/market/stats":
        return None
    symbol = _q(query, "symbol")
    facts = _pair_facts("kucoin", *symbol.partition("-")[::2])
    stamp = int(now * 1000)
    if facts is None:
        # An unknown pair is not an error on KuCoin: success, and a stats object of nulls.
        return 200, {"code": "200000", "data": {
            "time": stamp, "symbol": symbol, "buy": None, "sell": None, "changeRate": None, "changePrice": None,
            "high": None, "low": None, "vol": None, "volValue": None, "last": None, "averagePrice": None,
            "takerFeeRate": "0.001", "makerFeeRate": "0.001", "takerCoefficient": "1", "makerCoefficient": "1"}}, {}
    price = facts["price"]
    opened, high, low = day_range(facts)
    turnover = facts["volume"] * VOLUME_SHARE["kucoin"]
    return 200, {"code": "200000", "data": {
        "time": stamp, "symbol": symbol, "buy": _decimal(price), "sell": _decimal(price),
        "changeRate": f"{facts['change'] / 100:.4f}", "changePrice": f"{price - opened:.8f}",
        "high": _decimal(round(high, 8)), "low": _decimal(round(low, 8)), "vol": f"{turnover / price:.8f}",
        "volValue": f"{turnover:.2f}", "last": _decimal(price), "averagePrice": _decimal(price),
        "takerFeeRate": "0.001", "makerFeeRate": "0.001", "takerCoefficient": "1", "makerCoefficient": "1"}}, {}


def bitfinex(rest: str, query: dict, now: float) -> Answer | None:
    match = re.fullmatch(r"/ticker/(t[\w:]+)", rest)
    if match is None:
        return None
    split = _bitfinex_split(match[1])
    facts = _pair_facts("bitfinex", *split) if split else None
    if facts is None:
        return 200, [], {}  # as for its books: an unknown symbol has an empty answer, not an error
    price = facts["price"]
    opened, high, low = day_range(facts)
    # [BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE, DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW] numbers.
    return 200, [price, 11.2, price, 8.4, round(price - opened, 8), round(facts["change"] / 100, 6), price,
                 round(facts["volume"] / price * VOLUME_SHARE["bitfinex"], 4), round(high, 8), round(low, 8)], {}


TICKER_HANDLERS: dict[str, Callable[[str, dict, float], Answer | None]] = {
    "coinbase_exchange": coinbase_exchange, "kucoin": kucoin, "bitfinex": bitfinex,
}
