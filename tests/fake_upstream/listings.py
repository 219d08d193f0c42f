"""The providers' own listings of what they know, in their real shapes, from the fake's coin table
(coins.py): CoinGecko /coins/list, CoinPaprika /coins, Binance exchangeInfo, Kraken AssetPairs,
Coinbase /currencies/crypto, Coinbase Exchange /products, KuCoin /api/v2/symbols, OKX spot
instruments, Bitfinex's pair list, Bitstamp's trading-pairs-info, Gemini's symbols, Bybit's spot
instruments and Gate.io's currency pairs. What the registry sync (healing.asset_listings) reads.
CoinCap's /assets and CoinLore's /tickers/ are their price answers (aggregators.py).

Answered in front of each provider's own handler, like the depth answers (depth.with_depth).
"""

from __future__ import annotations

from collections.abc import Callable

from tests.fake_upstream import coins
from tests.fake_upstream.market import MARKET, RANK, Answer, name_of

Handler = Callable[[str, dict, float], Answer]
CONTRACTS = {"tether": {"ethereum": "0xdac17f958d2ee523a2206206994597c13d831ec7"},
             "usd-coin": {"ethereum": "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"}}
# Quotes each exchange pairs the listed coins with.
BINANCE_QUOTES, KRAKEN_QUOTES = ("USDT", "BTC"), ("USD", "EUR")
USD_QUOTES = ("USD", "USDT")
# Bitfinex calls Tether "UST" in its pairs (providers.adapters.bitfinex.ALIASES).
BITFINEX_CODES = {"USDT": "UST"}


def _listed() -> list[coins.Coin]:
    return sorted((c for c in coins.COINS if c.id in MARKET), key=lambda c: RANK[c.id])


def _coingecko(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/coins/list":
        return None
    with_platforms = (query.get("include_platform") or [""])[0] == "true"
    rows = [{"id": c.id, "symbol": c.symbol.lower(), "name": name_of(c.id),
             **({"platforms": CONTRACTS.get(c.id, {})} if with_platforms else {})} for c in _listed()]
    return 200, rows, {}


def _coinpaprika(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/coins":
        return None
    return 200, [{"id": c.paprika, "name": name_of(c.id), "symbol": c.symbol, "rank": RANK[c.id], "is_new": False,
                  "is_active": True, "type": "token" if c.id in CONTRACTS else "coin"} for c in _listed()], {}


def _binance(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/api/v3/exchangeInfo":
        return None
    symbols = [{"symbol": c.symbol + quote, "status": "TRADING", "baseAsset": c.symbol, "quoteAsset": quote,
                "isSpotTradingAllowed": True} for c in _listed() for quote in BINANCE_QUOTES if c.symbol != quote]
    return 200, {"timezone": "UTC", "serverTime": int(now * 1000), "rateLimits": [], "symbols": symbols}, {}


def _kraken(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/0/public/AssetPairs":
        return None
    result = {}
    for c in _listed():
        if c.kraken == "":
            continue
        base = c.kraken or c.symbol
        for quote in KRAKEN_QUOTES:
            result[coins.kraken_result_key(base, quote)] = {
                "altname": base + quote, "wsname": f"{base}/{quote}", "base": base, "quote": "Z" + quote,
                "status": "online"}
    return 200, {"error": [], "result": result}, {}


def _pairs(quotes: tuple[str, ...] = USD_QUOTES) -> list[tuple[str, str]]:
    return [(c.symbol, quote) for c in _listed() for quote in quotes if c.symbol != quote]


def _coinbase(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/currencies/crypto":
        return None
    rows = [{"asset_id": c.paprika, "code": c.symbol, "name": name_of(c.id), "color": "#000000",
             "sort_index": RANK[c.id], "exponent": 8, "type": "crypto", "address_regex": ""} for c in _listed()]
    return 200, {"data": rows}, {}


def _coinbase_exchange(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/products":
        return None
    rows = [{"id": f"{base}-{quote}", "base_currency": base, "quote_currency": quote, "status": "online",
             "trading_disabled": False, "display_name": f"{base}/{quote}"} for base, quote in _pairs()]
    return 200, rows, {}


def _kucoin(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/api/v2/symbols":
        return None
    rows = [{"symbol": f"{base}-{quote}", "name": f"{base}-{quote}", "baseCurrency": base, "quoteCurrency": quote,
             "market": "USDS", "enableTrading": True} for base, quote in _pairs(("USDT",))]
    return 200, {"code": "200000", "data": rows}, {}


def _okx(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/api/v5/public/instruments":
        return None
    rows = [{"instType": "SPOT", "instId": f"{base}-{quote}", "baseCcy": base, "quoteCcy": quote, "state": "live"}
            for base, quote in _pairs(("USDT", "USDC"))]
    return 200, {"code": "0", "msg": "", "data": rows}, {}


def _bitfinex(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/conf/pub:list:pair:exchange":
        return None
    pairs = []
    for base, quote in _pairs():
        base, quote = BITFINEX_CODES.get(base, base), BITFINEX_CODES.get(quote, quote)
        pairs.append(f"{base}:{quote}" if len(base) > 3 or len(quote) > 3 else base + quote)
    return 200, [pairs], {}


def _bitstamp(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/trading-pairs-info/":
        return None
    return 200, [{"name": f"{base}/{quote}", "url_symbol": (base + quote).lower(), "base_decimals": 8,
                  "counter_decimals": 2, "minimum_order": f"10 {quote}", "trading": "Enabled",
                  "instant_and_market_orders": "Enabled",
                  "description": f"{name_of(coins.id_for_symbol(base))} / {quote}"}
                 for base, quote in _pairs(("USD", "EUR"))], {}


def _gemini(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/v1/symbols":
        return None
    # Bare lower-case symbols, perpetuals among them.
    return 200, [(base + quote).lower() for base, quote in _pairs(("USD", "GUSD"))] + ["btcgusdperp"], {}


def _bybit(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/v5/market/instruments-info":
        return None
    rows = [{"symbol": base + quote, "baseCoin": base, "quoteCoin": quote, "innovation": "0", "status": "Trading"}
            for base, quote in _pairs(("USDT", "USDC"))]
    return 200, {"retCode": 0, "retMsg": "OK", "result": {"category": "spot", "list": rows, "nextPageCursor": ""},
                 "retExtInfo": {}, "time": int(now * 1000)}, {}


def _gateio(rest: str, query: dict, now: float) -> Answer | None:
    if rest != "/spot/currency_pairs":
        return None
    return 200, [{"id": f"{base}_{quote}", "base": base, "quote": quote, "fee": "0.2", "trade_status": "tradable"}
                 for base, quote in _pairs(("USDT",))], {}


LISTING_HANDLERS: dict[str, Handler] = {
    "coingecko": _coingecko, "coinpaprika": _coinpaprika, "binance": _binance, "kraken": _kraken,
    "coinbase": _coinbase, "coinbase_exchange": _coinbase_exchange, "kucoin": _kucoin, "okx": _okx,
    "bitfinex": _bitfinex, "bitstamp": _bitstamp, "gemini": _gemini, "bybit": _bybit, "gateio": _gateio}


def with_listings(providers: dict[str, Handler]) -> dict[str, Handler]:
    """The provider table with each listing answered in front of the provider's own handler."""
    def chained(slug: str) -> Handler:
        listing, own = LISTING_HANDLERS[slug], providers[slug]

        def answer(rest: str, query: dict, now: float) -> Answer:
            found = listing(rest, query, now)
            return found if found is not None else own(rest, query, now)
        return answer
    return {**providers, **{slug: chained(slug) for slug in LISTING_HANDLERS}}
