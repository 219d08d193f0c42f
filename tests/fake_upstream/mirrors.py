"""Binance's API elsewhere, and DIA: the fake binance_vision, binance_us and dia.

binance_vision is Binance's public market-data mirror: server.py routes it to Binance's own answers
(same paths, shapes and data). binance_us is the same API over its own, smaller market: the coins
in US_BASES against real USD books and USDT; anything else is Binance's 400 "Invalid symbol".
DIA answers one asset per call, by symbol (/quotation/BTC) or by chain and address
(/assetQuotation/Bitcoin/0x00…00), with nanosecond RFC 3339 times and 404 {"errorcode", ...} for
an asset it does not quote.
"""

from __future__ import annotations

import json
import time

from tests.fake_upstream import coins, depth
from tests.fake_upstream.listings import CONTRACTS
from tests.fake_upstream.market import MARKET, STATE, Answer, _binance_row, _q, _split_pair, generic_answer, name_of

# What Binance.US lists here (what fixtures/assets.json names for it), against these quotes.
US_BASES = frozenset({"BTC", "ETH", "USDT", "BNB", "SOL", "USDC", "DOGE", "ADA", "LINK", "BCH", "AVAX", "LTC",
                      "SHIB", "DOT", "UNI", "ATOM", "ETC", "ALGO", "XLM"})
US_QUOTES = ("USD", "USDT")
INVALID_SYMBOL = 400, {"code": -1121, "msg": "Invalid symbol."}, {}
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# DIA's (Blockchain, address) of the chains' native coins here; tokens by their Ethereum contract.
DIA_NATIVE = {"Bitcoin": "bitcoin", "Ethereum": "ethereum", "Solana": "solana", "Ton": "the-open-network"}
DIA_NOT_FOUND = 404, {"errorcode": 404, "errormessage": "redis: nil"}, {}


def _us_listed(pair: str) -> bool:
    split = _split_pair(pair)
    return split is not None and split[0] in US_BASES and split[1] in US_QUOTES and split[0] != split[1]


def binance_us(rest: str, query: dict, now: float) -> Answer:
    if rest == "/api/v3/ping":
        return 200, {}, {}
    if rest == "/api/v3/exchangeInfo":
        symbols = [{"symbol": base + quote, "status": "TRADING", "baseAsset": base, "quoteAsset": quote,
                    "isSpotTradingAllowed": True, "permissions": ["SPOT"]}
                   for base in sorted(US_BASES) for quote in US_QUOTES if base != quote]
        return 200, {"timezone": "UTC", "serverTime": int(now * 1000), "rateLimits": [], "symbols": symbols}, {}
    single = _q(query, "symbol")
    if rest in ("/api/v3/klines", "/api/v3/depth"):
        return depth.binance(rest, query, now, "binance_us") if _us_listed(single) else INVALID_SYMBOL
    if rest != "/api/v3/ticker/24hr":
        return generic_answer("binance_us", rest)
    try:
        pairs = [single] if single else json.loads(_q(query, "symbols", "[]"))
    except ValueError:
        return 400, {"code": -1100, "msg": "Illegal characters found in parameter 'symbols'."}, {}
    rows = [_binance_row(pair, now, "binance_us") if _us_listed(pair) else None for pair in pairs]
    if not rows or any(row is None for row in rows):
        return INVALID_SYMBOL
    return 200, (rows[0] if single else rows), {"x-mbx-used-weight-1m": str(2 * len(rows))}


def _dia_time(now: float) -> str:
    # Go's time.Time in JSON: RFC 3339 with nanoseconds.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1e9) % 10**9:09d}Z"


def _dia_quotation(coin_id: str, chain: str, address: str, now: float) -> Answer:
    price = STATE.price("dia", coin_id, "usd")
    if price is None or coin_id not in MARKET:
        return DIA_NOT_FOUND
    change = MARKET[coin_id][3]
    return 200, {"Symbol": coins.symbol_for(coin_id), "Name": name_of(coin_id), "Address": address,
                 "Blockchain": chain, "Price": price, "PriceYesterday": round(price / (1 + change / 100), 8),
                 "VolumeYesterdayUSD": MARKET[coin_id][2] / 12, "Time": _dia_time(now - 30),
                 "Source": "diadata.org", "Signature": "0x" + "5e" * 65}, {}


def dia(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "quotation":
        coin_id = coins.id_for_symbol(parts[1].upper())
        if coin_id is None:
            return DIA_NOT_FOUND
        chain = next((name for name, native in DIA_NATIVE.items() if native == coin_id), name_of(coin_id))
        return _dia_quotation(coin_id, chain, ZERO_ADDRESS, now)
    if len(parts) == 3 and parts[0] == "assetQuotation":
        chain, address = parts[1], parts[2]
        coin_id = DIA_NATIVE.get(chain) if address == ZERO_ADDRESS else next(
            (cid for cid, where in CONTRACTS.items() if chain == "Ethereum"
             and where.get("ethereum", "").lower() == address.lower()), None)
        return _dia_quotation(coin_id, chain, address, now) if coin_id else DIA_NOT_FOUND
    return generic_answer("dia", rest)


PROVIDERS = {"binance_us": binance_us, "dia": dia}
