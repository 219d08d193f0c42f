"""The fake's market and state: one price table (and one fee table) that every provider's answer is
derived from, the control state, and the price answers of the engine issue's seven providers.

The other answers live next to it (aggregators, exchanges, onchain, feeds); server.py routes to all.
"""

from __future__ import annotations

import json
import time
from collections import deque
from decimal import Decimal
from typing import Any

from tests.fake_upstream import coins

# --- the market -------------------------------------------------------------------------------

# coin id -> (price USD, circulating supply, 24 h volume USD, 24 h change %); mid-2025 values.
MARKET: dict[str, tuple[float, float, float, float]] = {
    "bitcoin": (109600.0, 19_877_312, 38.2e9, 1.54), "ethereum": (2770.0, 120_727_391, 21.8e9, 3.12),
    "tether": (1.0002, 154.4e9, 61.2e9, 0.02), "ripple": (2.29, 58.9e9, 2.9e9, 1.1),
    "binancecoin": (668.4, 140.9e6, 1.6e9, 0.8), "solana": (163.8, 524.5e6, 4.0e9, -0.77),
    "usd-coin": (0.9999, 61.3e9, 8.1e9, 0.01), "dogecoin": (0.1951, 149.6e9, 1.3e9, 2.6),
    "tron": (0.2871, 94.8e9, 0.61e9, 0.4), "cardano": (0.7012, 36.1e9, 0.72e9, 1.9),
    "chainlink": (14.31, 657.1e6, 0.44e9, 2.2), "stellar": (0.2774, 31.1e9, 0.21e9, 1.3),
    "bitcoin-cash": (419.2, 19.9e6, 0.33e9, 0.6), "avalanche-2": (21.07, 422.1e6, 0.41e9, 2.9),
    "the-open-network": (3.21, 2.47e9, 0.19e9, -0.5), "litecoin": (90.12, 75.9e6, 0.39e9, 1.1),
    "shiba-inu": (0.00001275, 589.2e12, 0.21e9, 1.7), "polkadot": (4.21, 1.52e9, 0.19e9, 2.1),
    "monero": (322.4, 18.45e6, 0.09e9, 0.3), "dai": (1.0, 5.36e9, 0.11e9, 0.0),
    "uniswap": (7.91, 628.7e6, 0.31e9, 4.4), "pepe": (0.00001297, 420.69e12, 0.9e9, 3.8),
    "aave": (292.1, 15.2e6, 0.38e9, 5.1), "near": (2.61, 1.22e9, 0.17e9, 1.9),
    "aptos": (5.12, 636.1e6, 0.15e9, 1.4), "ethereum-classic": (17.91, 152.4e6, 0.12e9, 0.9),
    "internet-computer": (5.71, 535.2e6, 0.08e9, 1.2), "cosmos": (4.62, 390.9e6, 0.09e9, 1.6),
    "filecoin": (2.69, 665.4e6, 0.13e9, 2.3), "arbitrum": (0.3912, 4.89e9, 0.21e9, 3.3),
    "optimism": (0.6711, 1.72e9, 0.14e9, 2.8), "sui": (3.27, 3.34e9, 0.81e9, 1.0),
    "zcash": (44.8, 16.3e6, 0.06e9, 1.2),
}
# Units of a fiat (or USD stablecoin) per 1 USD.
FIAT_PER_USD = {"usd": 1.0, "usdt": 1.0, "usdc": 1.0, "eur": 0.8771, "gbp": 0.7394, "jpy": 144.61,
                "cad": 1.3687, "aud": 1.5372, "chf": 0.8228}
# Rank by market cap at the table's prices: every provider lists coins in this order.
RANK: dict[str, int] = {coin_id: rank for rank, coin_id in enumerate(
    sorted(MARKET, key=lambda coin_id: MARKET[coin_id][0] * MARKET[coin_id][1], reverse=True), start=1)}
_NAMES = {"binancecoin": "BNB", "ripple": "XRP", "usd-coin": "USDC", "avalanche-2": "Avalanche",
          "the-open-network": "Toncoin", "near": "NEAR Protocol", "internet-computer": "Internet Computer",
          "shiba-inu": "Shiba Inu", "bitcoin-cash": "Bitcoin Cash", "ethereum-classic": "Ethereum Classic"}
# Fee levels (slow, standard, fast): Ethereum in gwei (plus the base fee), Bitcoin in sat/vB.
GAS: dict[str, dict[str, float]] = {
    "ethereum": {"slow": 0.49, "standard": 0.52, "fast": 0.61, "base_fee": 0.487654321},
    "bitcoin": {"slow": 3, "standard": 4, "fast": 6},
}
RECENT_REQUESTS = 500  # how many requests /_control/requests remembers
QUOTE_SUFFIXES = ("USDT", "USDC", "USD", "EUR", "GBP", "JPY", "CAD", "XBT", "BTC", "ETH", "BNB")


class State:
    """Everything the control API changes; lives only in the fake's own process."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.faults: dict[str, dict[str, Any]] = {}
        self.overrides: dict[tuple[str, str, str], float] = {}
        self.gas_overrides: dict[tuple[str, str], float] = {}  # (slug or "*", chain) -> standard level
        self.total = 0
        self.by_slug: dict[str, int] = {}
        self.by_path: dict[str, int] = {}
        # The last requests as received, so tests can check what the engine sent (auth, headers).
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_REQUESTS)
        self.epoch: float | None = None  # fixed clock, or None for real time

    def now(self) -> float:
        return self.epoch if self.epoch is not None else time.time()

    def take_fault(self, slug: str, rest: str) -> dict[str, Any] | None:
        for key in (slug, "*"):
            fault = self.faults.get(key)
            if fault is None or not rest.startswith(fault.get("path") or "/"):
                continue
            if fault.get("times") is not None:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    del self.faults[key]
            return fault
        return None

    def usd_value(self, code: str, slug: str) -> float | None:
        """USD worth of one unit of a fiat code or a coin symbol."""
        if code in FIAT_PER_USD:
            return 1 / FIAT_PER_USD[code]
        coin_id = coins.id_for_symbol(code)
        return self.price(slug, coin_id, "usd") if coin_id in MARKET else None

    def price(self, slug: str, coin_id: str, vs: str) -> float | None:
        for key in ((slug, coin_id, vs), ("*", coin_id, vs)):
            if key in self.overrides:
                return self.overrides[key]
        if coin_id not in MARKET:
            return None
        if vs == "usd":
            return MARKET[coin_id][0]
        unit = self.usd_value(vs, slug)
        return MARKET[coin_id][0] / unit if unit else None

    def gas(self, slug: str, chain: str) -> dict[str, float]:
        """The fee ladder a provider answers: the table's, scaled when a test moved its standard level."""
        levels = GAS[chain]
        for key in ((slug, chain), ("*", chain)):
            if key in self.gas_overrides:
                factor = self.gas_overrides[key] / levels["standard"]
                return {name: value * factor for name, value in levels.items()}
        return dict(levels)

    def facts(self, slug: str, coin_id: str, vs: str) -> dict[str, float] | None:
        price = self.price(slug, coin_id, vs)
        if price is None:
            return None
        _, supply, volume_usd, change = MARKET[coin_id]
        ratio = price / MARKET[coin_id][0]  # scales cap and volume into vs (and follows overrides)
        return {"price": price, "cap": supply * price, "volume": volume_usd * ratio, "change": change,
                "supply": supply}


STATE = State()


def day_range(facts: dict[str, float]) -> tuple[float, float, float]:
    """(open 24 h ago, high, low) of a pair's day: the open follows from the table's change, and the
    range holds both the open and the current price, as every exchange's 24 h window does."""
    price = facts["price"]
    opened = price / (1 + facts["change"] / 100)
    return opened, max(price, opened) * 1.01, min(price, opened) * 0.99


def _decimal(value: float) -> str:
    """A number as providers print it in strings: plain decimal digits, never exponent form."""
    return format(Decimal(repr(value)), "f")


def name_of(coin_id: str) -> str:
    return _NAMES.get(coin_id, coin_id.replace("-", " ").title())


def iso_z(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _q(query: dict[str, list[str]], name: str, default: str = "") -> str:
    return query.get(name, [default])[0]


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _split_pair(pair: str) -> tuple[str, str] | None:
    for quote in QUOTE_SUFFIXES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return pair[: -len(quote)], quote
    return None


def _coin_of(code: str) -> str | None:
    code = {"XBT": "BTC", "XDG": "DOGE"}.get(code, code)
    return coins.id_for_symbol(code)


def _vs_of(quote: str) -> str:
    return {"XBT": "btc", "USDT": "usd"}.get(quote, quote.lower())


# --- provider answers: (status, body, extra headers) -----------------------------------------

Answer = tuple[int, Any, dict[str, str]]


def coingecko(rest: str, query: dict, now: float) -> Answer:
    if rest == "/ping":
        return 200, {"gecko_says": "(V3) To the Moon!"}, {}
    if rest != "/simple/price":
        return generic_answer("coingecko", rest)
    body: dict[str, Any] = {}
    for coin_id in _csv(_q(query, "ids")):
        item: dict[str, Any] = {}
        for vs in _csv(_q(query, "vs_currencies").lower()):
            facts = STATE.facts("coingecko", coin_id, vs)
            if facts is None:
                continue
            item[vs] = facts["price"]
            if _q(query, "include_market_cap") == "true":
                item[f"{vs}_market_cap"] = facts["cap"]
            if _q(query, "include_24hr_vol") == "true":
                item[f"{vs}_24h_vol"] = facts["volume"]
            if _q(query, "include_24hr_change") == "true":
                item[f"{vs}_24h_change"] = facts["change"]
        if item:
            if _q(query, "include_last_updated_at") == "true":
                item["last_updated_at"] = int(now) - 20
            body[coin_id] = item  # unknown ids are simply absent, as on the real API
    return 200, body, {}


def _paprika_ticker(coin: coins.Coin, quotes: list[str], now: float) -> dict[str, Any]:
    block = {}
    for code in quotes:
        facts = STATE.facts("coinpaprika", coin.id, code.lower())
        if facts:
            block[code] = {"price": facts["price"], "volume_24h": facts["volume"], "market_cap": round(facts["cap"]),
                           "percent_change_1h": 0.1, "percent_change_24h": facts["change"], "ath_price": None}
    updated = iso_z(now - 30)
    return {"id": coin.paprika, "name": name_of(coin.id), "symbol": coin.symbol, "rank": RANK[coin.id],
            "circulating_supply": MARKET[coin.id][1], "max_supply": 0, "last_updated": updated, "quotes": block}


def coinpaprika(rest: str, query: dict, now: float) -> Answer:
    quotes = _csv(_q(query, "quotes", "USD").upper())
    if rest == "/tickers":
        return 200, [_paprika_ticker(c, quotes, now) for c in coins.COINS if c.id in MARKET], {}
    if rest.startswith("/tickers/"):
        wanted = rest.removeprefix("/tickers/")
        for coin in coins.COINS:
            if coin.paprika == wanted and coin.id in MARKET:
                return 200, _paprika_ticker(coin, quotes, now), {}
        return 404, {"error": "id not found"}, {}
    return generic_answer("coinpaprika", rest)


def coincap(rest: str, query: dict, now: float) -> Answer:
    if rest != "/assets":
        return generic_answer("coincap", rest)
    wanted = _csv(_q(query, "ids"))
    data = []
    for coin in sorted((c for c in coins.COINS if c.id in MARKET), key=lambda c: RANK[c.id]):
        facts = STATE.facts("coincap", coin.id, "usd")
        if facts and (not wanted or coin.coincap in wanted):
            data.append({"id": coin.coincap, "rank": str(RANK[coin.id]), "symbol": coin.symbol,
                         "name": name_of(coin.id), "supply": f"{facts['supply']:.16f}", "maxSupply": None,
                         "marketCapUsd": f"{facts['cap']:.16f}", "volumeUsd24Hr": f"{facts['volume']:.16f}",
                         "priceUsd": _decimal(facts["price"]), "changePercent24Hr": _decimal(facts["change"]),
                         "vwap24Hr": _decimal(facts["price"]), "explorer": None})
    if _q(query, "limit").isdigit():
        data = data[: int(_q(query, "limit"))]
    return 200, {"data": data, "timestamp": int(now * 1000)}, {}


def cryptocompare(rest: str, query: dict, now: float) -> Answer:
    if rest != "/data/pricemultifull":
        return generic_answer("cryptocompare", rest)
    raw: dict[str, Any] = {}
    for fsym in _csv(_q(query, "fsyms").upper()):
        coin_id = coins.id_for_symbol(fsym)
        for tsym in _csv(_q(query, "tsyms").upper()):
            facts = STATE.facts("cryptocompare", coin_id, tsym.lower()) if coin_id else None
            if facts:
                volume_base = facts["volume"] / facts["price"]
                raw.setdefault(fsym, {})[tsym] = {
                    "TYPE": "5", "MARKET": "CCCAGG", "FROMSYMBOL": fsym, "TOSYMBOL": tsym, "FLAGS": "2049",
                    "PRICE": facts["price"], "LASTUPDATE": int(now) - 5, "MEDIAN": facts["price"],
                    "VOLUME24HOUR": volume_base / 10, "VOLUME24HOURTO": facts["volume"] / 10,
                    "CHANGEPCT24HOUR": facts["change"], "SUPPLY": facts["supply"], "MKTCAP": facts["cap"],
                    "TOTALVOLUME24H": volume_base, "TOTALVOLUME24HTO": facts["volume"]}
    if not raw:
        return 200, {"Response": "Error", "Message": "cccagg_or_exchange market does not exist for this coin pair",
                     "HasWarning": False, "Type": 2, "RateLimit": {}, "Data": {}, "ParamWithError": "fsyms"}, {}
    return 200, {"RAW": raw, "DISPLAY": {}}, {}


def _binance_row(pair: str, now: float, slug: str = "binance") -> dict[str, Any] | None:
    split = _split_pair(pair)
    coin_id = _coin_of(split[0]) if split else None
    facts = STATE.facts(slug, coin_id, _vs_of(split[1])) if coin_id else None
    if facts is None:
        return None
    price = facts["price"]
    open_price, high, low = day_range(facts)
    close_ms = int(now * 1000) - 1
    return {"symbol": pair, "priceChange": f"{price - open_price:.8f}", "priceChangePercent": f"{facts['change']:.3f}",
            "weightedAvgPrice": f"{price:.8f}", "prevClosePrice": f"{open_price:.8f}", "lastPrice": f"{price:.8f}",
            "lastQty": "0.01000000", "bidPrice": f"{price:.8f}", "bidQty": "4.61012000", "askPrice": f"{price:.8f}",
            "askQty": "2.00841000", "openPrice": f"{open_price:.8f}", "highPrice": f"{high:.8f}",
            "lowPrice": f"{low:.8f}", "volume": f"{facts['volume'] / price:.8f}",
            "quoteVolume": f"{facts['volume']:.8f}",
            "openTime": close_ms - 86_399_999, "closeTime": close_ms, "firstId": 1, "lastId": 1000, "count": 1000}


def binance(rest: str, query: dict, now: float) -> Answer:
    if rest == "/api/v3/ping":
        return 200, {}, {}
    if rest not in ("/api/v3/ticker/24hr", "/api/v3/ticker/price"):
        return generic_answer("binance", rest)
    single = _q(query, "symbol")
    try:
        pairs = [single] if single else json.loads(_q(query, "symbols", "[]"))
    except ValueError:
        return 400, {"code": -1100, "msg": "Illegal characters found in parameter 'symbols'."}, {}
    rows = [_binance_row(pair, now) for pair in pairs]
    if any(row is None for row in rows):
        return 400, {"code": -1121, "msg": "Invalid symbol."}, {}
    if rest.endswith("/price"):
        rows = [{"symbol": r["symbol"], "price": r["lastPrice"]} for r in rows]
    headers = {"x-mbx-used-weight-1m": str(2 * len(rows))}
    return 200, (rows[0] if single else rows), headers


def kraken(rest: str, query: dict, now: float) -> Answer:
    if rest != "/0/public/Ticker":
        return generic_answer("kraken", rest)
    result = {}
    for pair in _csv(_q(query, "pair").upper()):
        split = _split_pair(pair)
        coin_id = _coin_of(split[0]) if split else None
        facts = STATE.facts("kraken", coin_id, _vs_of(split[1])) if coin_id else None
        if facts is None:
            return 200, {"error": ["EQuery:Unknown asset pair"]}, {}
        p = _decimal(facts["price"])
        volume = f"{facts['volume'] / facts['price']:.8f}"
        # o is today's open (here the current price); h and l hold the 24 h window.
        _, high, low = (_decimal(value) for value in day_range(facts))
        result[coins.kraken_result_key(*split)] = {
            "a": [p, "1", "1.000"], "b": [p, "1", "1.000"], "c": [p, "0.01000000"], "v": [volume, volume],
            "p": [p, p], "t": [1000, 2000], "l": [low, low], "h": [high, high], "o": p}
    return 200, {"error": [], "result": result}, {}


def coinbase(rest: str, query: dict, now: float) -> Answer:
    if rest == "/exchange-rates":
        currency = _q(query, "currency", "USD").upper()
        unit = STATE.usd_value(currency.lower(), "coinbase")
        if unit is None:
            return 400, {"errors": [{"id": "invalid_request", "message": "Currency is invalid"}]}, {}
        rates = {code.upper(): _decimal(unit * per_usd) for code, per_usd in FIAT_PER_USD.items()}
        for coin in coins.COINS:
            price = STATE.price("coinbase", coin.id, currency.lower())
            if price:
                rates[coin.symbol] = _decimal(1 / price)
        return 200, {"data": {"currency": currency, "rates": rates}}, {}
    if rest.startswith("/prices/") and rest.endswith("/spot"):
        base, _, quote = rest.split("/")[2].partition("-")
        price = STATE.price("coinbase", _coin_of(base) or "", quote.lower())
        if price is None:
            return 404, {"errors": [{"id": "not_found", "message": "Invalid currency pair"}]}, {}
        return 200, {"data": {"amount": f"{price:.2f}", "base": base, "currency": quote}}, {}
    return generic_answer("coinbase", rest)


PROVIDERS = {"coingecko": coingecko, "coinpaprika": coinpaprika, "coincap": coincap,
             "cryptocompare": cryptocompare, "binance": binance, "kraken": kraken, "coinbase": coinbase}


def generic_answer(slug: str, rest: str) -> Answer:
    return 200, {"ok": True, "provider": slug, "path": rest}, {}


def jsonrpc_answer(request: Any, slug: str = "*") -> Any:
    # A node's eth_gasPrice is about base fee + tip: the fee table's standard level, in wei.
    gas_price = hex(round(STATE.gas(slug, "ethereum")["standard"] * 10**9))
    results = {"eth_chainId": "0x1", "eth_blockNumber": "0x15d3c40", "eth_gasPrice": gas_price, "net_version": "1"}
    if isinstance(request, list):
        return [jsonrpc_answer(item, slug) for item in request]
    method = request.get("method") if isinstance(request, dict) else None
    return {"jsonrpc": "2.0", "id": request.get("id", 1) if isinstance(request, dict) else 1,
            "result": results.get(method, "0x1")}
