"""Exchange tickers beyond the engine issue's seven: KuCoin, Bitfinex and OKX, from the price table.

Each answers in its own envelope and number style (KuCoin and OKX strings inside a code envelope,
Bitfinex bare arrays of numbers) and fails an unknown pair the way the real one does.
"""

from __future__ import annotations

import functools
from typing import Any

from tests.fake_upstream import coins
from tests.fake_upstream.market import (
    MARKET,
    RANK,
    STATE,
    Answer,
    _coin_of,
    _csv,
    _decimal,
    _q,
    _vs_of,
    day_range,
    generic_answer,
)

MAJORS = ("BTC", "ETH")
# The pairs each exchange lists: every coin against its dollar quotes, the majors in some fiat,
# the top coins against BTC. Anything else is an unknown pair there.
DOLLAR_QUOTES = {"kucoin": ("USDT", "USDC"), "okx": ("USDT", "USDC"), "bitfinex": ("USD", "USDT"),
                 # more_exchanges.py: Bitstamp and Gemini have real USD books, Bybit and Gate.io USDT ones.
                 "bitstamp": ("USD", "USDT"), "gemini": ("USD",), "bybit": ("USDT", "USDC"), "gateio": ("USDT", "USDC")}
MAJOR_FIAT = {"kucoin": ("EUR",), "okx": ("EUR",), "bitfinex": ("EUR", "GBP", "JPY"), "bitstamp": ("EUR", "GBP"),
              "gemini": ("EUR", "GBP"), "bybit": ("EUR",), "gateio": ("EUR",)}
BTC_PAIRS = 5
BITFINEX_ALIASES = {"UST": "USDT", "DSH": "DASH", "IOT": "IOTA"}


@functools.cache
def listed_pairs(slug: str) -> tuple[tuple[str, str], ...]:
    bases = [coins.symbol_for(coin_id) for coin_id in sorted(MARKET, key=RANK.get)]
    pairs = [(base, quote) for quote in DOLLAR_QUOTES[slug] for base in bases if base != quote]
    pairs += [(base, fiat) for fiat in MAJOR_FIAT[slug] for base in MAJORS]
    return tuple(pairs + [(base, "BTC") for base in bases if base != "BTC"][:BTC_PAIRS])


@functools.cache
def _listed(slug: str) -> frozenset[tuple[str, str]]:
    return frozenset(listed_pairs(slug))


def _pair_facts(slug: str, base: str, quote: str) -> dict[str, float] | None:
    if (base, quote) not in _listed(slug):
        return None
    return STATE.facts(slug, _coin_of(base), _vs_of(quote))


# --- KuCoin -------------------------------------------------------------------------------------


def _kucoin_ticker(pair: str, facts: dict[str, float]) -> dict[str, Any]:
    price, change = facts["price"], facts["change"]
    return {"symbol": pair, "symbolName": pair, "buy": _decimal(price), "bestBidSize": "0.812",
            "sell": _decimal(price), "bestAskSize": "0.403", "changeRate": f"{change / 100:.4f}",
            "changePrice": f"{price * change / (100 + change):.8f}", "high": _decimal(price * 1.01),
            "low": _decimal(price * 0.98), "vol": f"{facts['volume'] / price / 20:.8f}",
            "volValue": f"{facts['volume'] / 20:.2f}", "last": _decimal(price), "averagePrice": _decimal(price),
            "takerFeeRate": "0.001", "makerFeeRate": "0.001", "takerCoefficient": "1", "makerCoefficient": "1"}


def kucoin(rest: str, query: dict, now: float) -> Answer:
    stamp = int(now * 1000)
    if rest == "/api/v1/market/orderbook/level1":
        base, _, quote = _q(query, "symbol").partition("-")
        facts = _pair_facts("kucoin", base, quote)
        if facts is None:
            # An unknown pair is not an error on KuCoin: the envelope says success, data is null.
            return 200, {"code": "200000", "data": None}, {}
        price = _decimal(facts["price"])
        return 200, {"code": "200000", "data": {
            "time": stamp, "sequence": "14691455768", "price": price, "size": "0.00012", "bestBid": price,
            "bestBidSize": "0.812", "bestAsk": price, "bestAskSize": "0.403"}}, {}
    if rest == "/api/v1/market/allTickers":
        tickers = []
        for base, quote in listed_pairs("kucoin"):
            facts = _pair_facts("kucoin", base, quote)
            if facts is not None:
                tickers.append(_kucoin_ticker(f"{base}-{quote}", facts))
        return 200, {"code": "200000", "data": {"time": stamp, "ticker": tickers}}, {}
    return generic_answer("kucoin", rest)


# --- Bitfinex -----------------------------------------------------------------------------------


def _bitfinex_split(symbol: str) -> tuple[str, str] | None:
    if not symbol.startswith("t"):
        return None
    body = symbol[1:]
    base, _, quote = body.partition(":") if ":" in body else (body[:3], "", body[3:])
    return BITFINEX_ALIASES.get(base, base), BITFINEX_ALIASES.get(quote, quote)


def bitfinex(rest: str, query: dict, now: float) -> Answer:
    if rest != "/tickers":
        return generic_answer("bitfinex", rest)
    wanted = _csv(_q(query, "symbols"))
    if wanted == ["ALL"]:
        names = {real: own for own, real in BITFINEX_ALIASES.items()}
        pairs = [(names.get(base, base), names.get(quote, quote)) for base, quote in listed_pairs("bitfinex")]
        wanted = [f"t{base}{quote}" if len(base) == 3 else f"t{base}:{quote}" for base, quote in pairs]
    rows = []
    for symbol in wanted:
        split = _bitfinex_split(symbol)
        facts = _pair_facts("bitfinex", *split) if split else None
        if facts is None:
            continue  # Bitfinex leaves unknown symbols out rather than failing the call
        price, change = facts["price"], facts["change"]
        rows.append([symbol, price, 11.2, price, 8.4, round(price * change / (100 + change), 8),
                     round(change / 100, 6), price, round(facts["volume"] / price / 25, 4), price * 1.01,
                     price * 0.98])
    return 200, rows, {}


# --- OKX ----------------------------------------------------------------------------------------


def _okx_row(inst_id: str, facts: dict[str, float], now: float) -> dict[str, Any]:
    price = facts["price"]
    open_24h, high, low = day_range(facts)
    return {"instType": "SPOT", "instId": inst_id, "last": _decimal(price), "lastSz": "0.0011",
            "askPx": _decimal(price), "askSz": "0.4", "bidPx": _decimal(price), "bidSz": "1.2",
            "open24h": f"{open_24h:.10g}", "high24h": f"{high:.10g}", "low24h": f"{low:.10g}",
            "volCcy24h": f"{facts['volume'] / 30:.2f}", "vol24h": f"{facts['volume'] / price / 30:.4f}",
            "ts": str(int(now * 1000)), "sodUtc0": f"{open_24h:.10g}", "sodUtc8": f"{open_24h:.10g}"}


def okx(rest: str, query: dict, now: float) -> Answer:
    if rest == "/api/v5/market/ticker":
        inst_id = _q(query, "instId")
        base, _, quote = inst_id.partition("-")
        facts = _pair_facts("okx", base, quote)
        if facts is None:
            return 200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}, {}
        return 200, {"code": "0", "msg": "", "data": [_okx_row(inst_id, facts, now)]}, {}
    if rest == "/api/v5/market/tickers":
        if _q(query, "instType") != "SPOT":
            return 200, {"code": "51000", "msg": "Parameter instType error", "data": []}, {}
        data = []
        for base, quote in listed_pairs("okx"):
            facts = _pair_facts("okx", base, quote)
            if facts is not None:
                data.append(_okx_row(f"{base}-{quote}", facts, now))
        return 200, {"code": "0", "msg": "", "data": data}, {}
    return generic_answer("okx", rest)


PROVIDERS = {"kucoin": kucoin, "bitfinex": bitfinex, "okx": okx}
