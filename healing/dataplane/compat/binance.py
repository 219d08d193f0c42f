"""Binance's public spot market API (`/compat/binance/api/v3/...`), answered from the exchanges' normalized data.

Binance first (the pools put it at the head), then OKX, Kraken, Coinbase Exchange, KuCoin and
Bitfinex for the same pair. Errors are Binance's `{"code": -1121, "msg": "Invalid symbol."}`.

Each endpoint is one normalized capability (binance_params reads the query, binance_shapes builds
the answer): ticker/price and ticker/24hr the `ticker`, depth and bookTicker the `orderbook`,
klines and avgPrice the `candles`; exchangeInfo comes from the asset registry, ping and time need
nothing. One `symbol=` is one normalized answer, so its repeats take the data plane's fast path;
`symbols=[...]` asks for each pair at once and answers them in the order asked.

A USDT pair that no exchange can answer may be answered from the USD pairs instead, only when the
operator allows it (CRYPTOHUB_COMPAT_USDT_AS_USD, off by default: a dollar is not a tether in a
de-peg), and the answer names the substituted symbols in X-Cryptohub-Usd-For-Usdt.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings

from common import json_input
from healing.dataplane import params_depth
from healing.dataplane.compat import binance_params as bp
from healing.dataplane.compat import binance_shapes as shapes
from healing.dataplane.compat.binance_symbols import SpotPair, listed_pairs
from healing.dataplane.compat.core import (
    CompatError,
    Composite,
    Fetch,
    Fetched,
    OneAnswer,
    Plan,
    Shape,
    WithHeaders,
    retry_after,
)
from healing.dataplane.param_errors import ParamError
from healing.engine.errors import CANCELLED, SKIPPED, AllProvidersFailed
from providers import assets
from providers.adapters.base import Outcome
from providers.market_depth import CANDLES_MAX_LIMIT, INTERVAL_SECONDS, ORDERBOOK_DEFAULT_DEPTH, ORDERBOOK_MAX_DEPTH

# Binance's error codes for what this API refuses itself (binance_params has the parameter ones).
UNKNOWN_ERROR = -1000
TOO_MANY_REQUESTS = -1003
BAD_PARAMETER = -1102
REJECTED_KEY = -2015
# Binance's defaults: 100 book levels, 500 klines.
DEPTH_DEFAULT_LIMIT = 100
KLINES_DEFAULT_LIMIT = 500
# avgPrice averages the last five 1-minute candles (binance_shapes.avg_price).
AVG_PRICE_INTERVAL = "1m"
# The symbols (comma-separated) a USD pair answered for, when CRYPTOHUB_COMPAT_USDT_AS_USD allows it.
USD_FOR_USDT_HEADER = "X-Cryptohub-Usd-For-Usdt"
# Offsets klines' timeZone may name: candles open on UTC boundaries at every exchange underneath.
UTC_NAMES = frozenset({"0", "+0", "-0", "00:00", "+00:00", "-00:00", "+0:00", "0:00"})

ParamsFor = Callable[[SpotPair, str], Mapping[str, Any]]


def _now_ms() -> int:
    return int(time.time() * 1000)


def refused_everywhere(exc: AllProvidersFailed) -> bool:
    """True when every exchange really asked refused the pair itself ("no such pair": Binance's 400
    -1121, OKX's 51001, Kraken's EQuery, a 404) and none had an outage or a limit: the symbol is
    well formed and its coin known, so no exchange lists that pairing."""
    called = [a.outcome for a in exc.attempts if a.outcome not in SKIPPED and a.outcome != CANCELLED]
    return bool(called) and all(o in (Outcome.PERMANENT.value, Outcome.NOT_FOUND.value) for o in called)


def _usd_may_stand_in(pair: SpotPair) -> bool:
    # Read per request (an attribute lookup), so a test's override applies to the running app.
    return pair.quote == "USDT" and settings.CRYPTOHUB_COMPAT_USDT_AS_USD


async def _fetch_pair(fetch: Fetch, capability: str, pair: SpotPair, params_for: ParamsFor) -> tuple[Fetched, bool]:
    """One pair's normalized answer, and whether a USD pair stood in for its USDT pair."""
    try:
        return await fetch(capability, params_for(pair, pair.vs)), False
    except AllProvidersFailed as asked:
        if not _usd_may_stand_in(pair):
            raise
        try:
            return await fetch(capability, params_for(pair, "usd")), True
        except AllProvidersFailed as substitute:
            # The substitute's outage says when to come back; its "not listed" says less than the pair's own.
            raise (asked if refused_everywhere(substitute) else substitute) from None


def _one(capability: str, pair: SpotPair, params_for: ParamsFor, shape: Shape) -> Plan:
    params = params_for(pair, pair.vs)  # validated now: a bad request never reaches a provider
    if not _usd_may_stand_in(pair):
        return OneAnswer(capability, params, shape, not_found=bp.invalid_symbol)

    async def run(fetch: Fetch) -> Any:
        got, substituted = await _fetch_pair(fetch, capability, pair, params_for)
        body = shape(got.data)
        return WithHeaders(body, {USD_FOR_USDT_HEADER: pair.symbol}) if substituted else body

    return Composite(run, capability=capability)


def _many(capability: str, pairs: list[SpotPair], params_for: ParamsFor, shape_for: Callable[[SpotPair], Shape]
          ) -> Plan:
    for pair in pairs:
        params_for(pair, pair.vs)

    async def run(fetch: Fetch) -> Any:
        found = await asyncio.gather(*(_fetch_pair(fetch, capability, pair, params_for) for pair in pairs),
                                     return_exceptions=True)
        for result in found:
            if isinstance(result, BaseException):
                raise result  # Binance answers a list whole or not at all
        body = [shape_for(pair)(got.data) for pair, (got, _) in zip(pairs, found, strict=True)]
        substituted = [pair.symbol for pair, (_, used_usd) in zip(pairs, found, strict=True) if used_usd]
        return WithHeaders(body, {USD_FOR_USDT_HEADER: ",".join(substituted)}) if substituted else body

    return Composite(run, capability=capability)


def _per_symbol(capability: str, query: Mapping[str, str], params_for: ParamsFor,
                shape_for: Callable[[SpotPair], Shape]) -> Plan:
    pairs, as_list = bp.one_or_many(query)
    if as_list:
        return _many(capability, pairs, params_for, shape_for)
    return _one(capability, pairs[0], params_for, shape_for(pairs[0]))


def _native(validator: Callable[[Mapping[str, str]], dict[str, Any]], query: Mapping[str, str],
            names: Mapping[str, str]) -> dict[str, Any]:
    """The native endpoint's own validator (so both share cache entries), its refusals in Binance's
    words naming Binance's parameter (`names`: native field -> Binance's)."""
    try:
        return validator(query)
    except ParamError as exc:
        raise bp.not_valid(names.get(exc.field, exc.field)) from None


# --- the endpoints ------------------------------------------------------------------------------


def _ticker_params(pair: SpotPair, vs: str) -> Mapping[str, Any]:
    return _native(params_depth.ticker_params, {"id": pair.coin_id, "vs": vs}, {"id": "symbol"})


def ticker_price(query: Mapping[str, str]) -> Plan:
    return _per_symbol("ticker", query, _ticker_params,
                       lambda pair: functools.partial(shapes.ticker_price, pair.symbol))


def ticker_24hr(query: Mapping[str, str]) -> Plan:
    kind = query.get("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise bp.not_valid("type")
    return _per_symbol("ticker", query, _ticker_params,
                       lambda pair: functools.partial(shapes.ticker_24hr, pair.symbol, mini=kind == "MINI"))


def _book_params(levels: int) -> ParamsFor:
    def params_for(pair: SpotPair, vs: str) -> Mapping[str, Any]:
        query = {"id": pair.coin_id, "vs": vs, "depth": str(levels)}
        return _native(params_depth.orderbook_params, query, {"id": "symbol", "depth": "limit"})
    return params_for


def book_ticker(query: Mapping[str, str]) -> Plan:
    # The native endpoint's default depth: the same cache entry as /api/data/orderbook?id=..&vs=..
    return _per_symbol("orderbook", query, _book_params(ORDERBOOK_DEFAULT_DEPTH),
                       lambda pair: functools.partial(shapes.book_ticker, pair.symbol))


def depth(query: Mapping[str, str]) -> Plan:
    pair = bp.symbol(query)
    # Binance serves up to 5000 levels; more than the normalized book's 100 is answered with 100.
    levels = bp.limit(query, default=DEPTH_DEFAULT_LIMIT, most=ORDERBOOK_MAX_DEPTH)
    return _one("orderbook", pair, _book_params(levels), shapes.depth)


def _candle_params(interval: str, count: int, start_s: int | None) -> ParamsFor:
    def params_for(pair: SpotPair, vs: str) -> Mapping[str, Any]:
        query = {"id": pair.coin_id, "vs": vs, "interval": interval, "limit": str(count),
                 "start": "" if start_s is None else str(start_s)}
        return _native(params_depth.candles_params, query, {"id": "symbol", "start": "startTime"})
    return params_for


def klines(query: Mapping[str, str]) -> Plan | list[Any]:
    pair = bp.symbol(query)
    interval = bp.interval(query, INTERVAL_SECONDS)
    step = INTERVAL_SECONDS[interval]
    count = bp.limit(query, default=KLINES_DEFAULT_LIMIT, most=CANDLES_MAX_LIMIT)
    if (query.get("timeZone") or "0") not in UTC_NAMES:
        raise bp.not_valid("timeZone")
    start_ms, end_ms = bp.whole(query, "startTime"), bp.whole(query, "endTime")
    start_s = None
    if start_ms is not None:
        start_s = -(-start_ms // 1000)  # the first candle opening at or after startTime
        if end_ms is not None:
            if end_ms < start_ms:
                raise bp.not_valid("endTime")
            first_open = -(-start_s // step) * step
            count = min(count, (end_ms // 1000 - first_open) // step + 1)
            if count < 1:
                return []  # no candle opens between startTime and endTime
    elif end_ms is not None:
        # The last `limit` candles opening at or before endTime.
        start_s = (end_ms // 1000) // step * step - (count - 1) * step
    shape = functools.partial(shapes.klines, step_s=step, end_ms=end_ms)
    return _one("candles", pair, _candle_params(interval, count, start_s), shape)


def avg_price(query: Mapping[str, str]) -> Plan:
    return _one("candles", bp.symbol(query), _candle_params(AVG_PRICE_INTERVAL, shapes.AVG_PRICE_MINUTES, None),
                shapes.avg_price)


# exchangeInfo's full listing, rebuilt when the registry is swapped: (registry, with permission sets) -> symbols.
_listing_memo: dict[bool, tuple[assets.Registry, list[dict[str, Any]]]] = {}


def _listing(permission_sets: bool) -> list[dict[str, Any]]:
    registry = assets.current()
    held = _listing_memo.get(permission_sets)
    if held is None or held[0] is not registry:
        symbols = [shapes.symbol_info(pair, permission_sets=permission_sets) for pair in listed_pairs(registry)]
        held = _listing_memo[permission_sets] = (registry, symbols)
    return held[1]


def _asks_for_spot(raw: str | None) -> bool:
    """permissions=SPOT or permissions=["SPOT","MARGIN"]: everything here is spot only."""
    if raw is None or raw == "":
        return True
    try:
        asked = json_input.loads(raw) if raw.startswith("[") else [raw]
    except ValueError:
        raise bp.not_valid("permissions") from None
    return isinstance(asked, list) and "SPOT" in asked


def exchange_info(query: Mapping[str, str]) -> dict[str, Any]:
    with_sets = query.get("showPermissionSets", "true") != "false"
    many = bp.symbols(query)
    pairs = many if many is not None else ([bp.symbol(query)] if query.get("symbol") else None)
    if pairs is None:
        symbols = _listing(with_sets)
    else:
        symbols = [shapes.symbol_info(pair, permission_sets=with_sets) for pair in pairs]
    if not _asks_for_spot(query.get("permissions")) or query.get("symbolStatus") not in (None, "", "TRADING"):
        symbols = []
    return shapes.exchange_info(symbols, _now_ms())


ROUTES: Mapping[str, Callable[[Mapping[str, str]], Plan | Any]] = {
    "ping": lambda query: {},
    "time": lambda query: {"serverTime": _now_ms()},
    "exchangeInfo": exchange_info,
    "ticker/price": ticker_price,
    "ticker/24hr": ticker_24hr,
    "ticker/bookTicker": book_ticker,
    "depth": depth,
    "klines": klines,
    "avgPrice": avg_price,
}


class Binance:
    name = "binance"
    prefix = "/compat/binance/api/v3/"

    def plan(self, path: str, query: Mapping[str, str]) -> Plan | Any:
        route = ROUTES.get(path)
        if route is None:
            raise CompatError(404, {"code": UNKNOWN_ERROR, "msg": f"Unknown path {path[:60]!r}."})
        return route(query)

    def error(self, status: int, message: str) -> Any:
        code = {429: TOO_MANY_REQUESTS, 400: BAD_PARAMETER, 401: REJECTED_KEY, 403: REJECTED_KEY}.get(
            status, UNKNOWN_ERROR)
        return {"code": code, "msg": message}

    def failure(self, exc: AllProvidersFailed, plan: Plan) -> CompatError:
        if refused_everywhere(exc):
            return bp.invalid_symbol()  # Binance's answer for a symbol it does not list
        body = self.error(503, f"no exchange could answer {exc.capability}")
        body["attempts"] = [a.as_dict() for a in exc.attempts]
        return CompatError(503, body, retry_after(exc, time.time()))


DIALECT = Binance()
