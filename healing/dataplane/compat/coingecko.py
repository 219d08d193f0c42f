"""CoinGecko's public API v3 (`/compat/coingecko/api/v3/...`), answered from the normalized capabilities.

Request parameters and answer shapes are CoinGecko's (coingecko_params reads the one,
coingecko_shapes builds the other); a field no provider can fill is null, as CoinGecko sends for
unknown values, never invented. Each endpoint is one plan over the engine, so CoinGecko answers
first while it is healthy (it heads the pools) and the other providers' normalized data after:

| endpoint | answered from |
| --- | --- |
| ping, simple/supported_vs_currencies, coins/list, search | static / the asset registry |
| simple/price | price: one answer per currency (OneAnswer for one, Composite for several) |
| coins/markets | markets (top 100 or 250 by cap); with `ids`: price for those ids |
| coins/{id} | registry + price in usd (registry only with market_data=false) |
| coins/{id}/ohlc, coins/{id}/market_chart | candles (its pool: exchanges first, CoinGecko last) |
| global | global in usd |
| search/trending | trending |

Errors are CoinGecko's: `{"error": "..."}` for a bad request or an unknown coin,
`{"status": {"error_code": ..., "error_message": ...}}` for limits and outages (503 lists the
engine's attempts, with Retry-After when a provider said when it is back).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any

from healing.dataplane.compat import coingecko_params as cp
from healing.dataplane.compat import coingecko_shapes as shapes
from healing.dataplane.compat.core import CompatError, Composite, Fetch, OneAnswer, Plan, all_not_found, retry_after
from healing.dataplane.param_errors import ParamError
from healing.dataplane.params import CAPABILITIES, MARKETS_DEFAULT_LIMIT, MARKETS_MAX_LIMIT
from healing.engine.errors import AllProvidersFailed
from providers import assets

PING = {"gecko_says": "(V3) To the Moon!"}
COIN_NOT_FOUND = {"error": "coin not found"}
# The currency coins/{id} and global are answered in (the normalized answers are per currency).
DETAIL_VS = "usd"


def engine_params(route: str, query: Mapping[str, str]) -> dict[str, Any]:
    """The normalized params of the native endpoint `route` for `query`: the same validator, so a
    compat request and the native one share the cache entry."""
    try:
        return CAPABILITIES[route].params(query)
    except ParamError as exc:
        raise cp.bad(exc.detail) from None


def _empty(body: Any) -> Callable[[], CompatError]:
    """CoinGecko's answer when every provider asked did not know the coins: 200 and nothing."""
    return lambda: CompatError(200, body)


def _asset(coin_id: str) -> assets.Asset:
    asset = assets.current().get(coin_id.lower())
    if asset is None:
        raise CompatError(404, COIN_NOT_FOUND)
    return asset


# --- the endpoints ----------------------------------------------------------------------------------


def simple_price(query: Mapping[str, str]) -> Plan | Any:
    raw_ids = cp.required(query, "ids")
    currencies = cp.vs_currencies(query)
    options = shapes.PriceOptions(
        market_cap=cp.flag(query, "include_market_cap"), volume=cp.flag(query, "include_24hr_vol"),
        change=cp.flag(query, "include_24hr_change"), last_updated=cp.flag(query, "include_last_updated_at"),
        precision=cp.precision(query))
    ids = cp.known_ids(raw_ids, assets.current())
    if not ids:
        return {}
    params = {vs: engine_params("price", {"ids": ",".join(ids), "vs": vs}) for vs in currencies}
    if len(currencies) == 1:
        vs = currencies[0]
        return OneAnswer("price", params[vs], lambda quotes: shapes.simple_price(ids, {vs: quotes}, options),
                         _empty({}))

    async def run(fetch: Fetch) -> dict:
        answers = await asyncio.gather(*(_quotes(fetch, p) for p in params.values()))
        return shapes.simple_price(ids, dict(zip(params, answers, strict=True)), options)

    return Composite(run, capability="price")


async def _quotes(fetch: Fetch, params: Mapping[str, Any]) -> list:
    """One currency's quotes; a currency no provider knows these coins in is left out, as CoinGecko does."""
    try:
        return (await fetch("price", params)).data
    except AllProvidersFailed as exc:
        if all_not_found(exc):
            return []
        raise


def coins_markets(query: Mapping[str, str]) -> Plan | Any:
    """Without `ids`: the markets capability's top list by market cap, ordered and paged here. It
    holds at most the top 250, so pages past them are empty (`[]`, CoinGecko's past-the-end answer)
    and `order` sorts those 250; the default order's first 100 rows share the native endpoint's
    default entry. With `ids`: the price capability for exactly those coins, any rank."""
    asked = cp.markets_query(query)
    if (query.get("ids") or "").strip():
        ids = cp.known_ids(query["ids"], assets.current())
        if not ids:
            return []
        params = engine_params("price", {"ids": ",".join(ids), "vs": asked.vs})
        # The registry is read when shaping: a shape kept for repeated hits follows a registry swap.
        return OneAnswer("price", params, lambda quotes: shapes.markets_page(
            shapes.quote_rows(ids, quotes, assets.current(), asked), asked), _empty([]))
    if asked.start >= MARKETS_MAX_LIMIT:
        return []
    whole_list = asked.order != cp.DEFAULT_ORDER or asked.end > MARKETS_DEFAULT_LIMIT
    limit = MARKETS_MAX_LIMIT if whole_list else MARKETS_DEFAULT_LIMIT
    params = engine_params("markets", {"vs": asked.vs, "limit": str(limit)})
    return OneAnswer("markets", params, lambda rows: shapes.markets_page(
        shapes.market_rows(rows, assets.current(), asked), asked))


def coin(coin_id: str, query: Mapping[str, str]) -> Plan | Any:
    asset = _asset(coin_id)
    if not cp.flag(query, "market_data", default=True):
        return shapes.coin_detail(asset, None)
    params = engine_params("price", {"ids": asset.id, "vs": DETAIL_VS})
    # A listed coin no price provider knows still has its registry part.
    return OneAnswer("price", params, lambda quotes: shapes.coin_detail(asset, quotes, DETAIL_VS),
                     _empty(shapes.coin_detail(asset, [], DETAIL_VS)))


def _candles(coin_id: str, query: Mapping[str, str], pick: Callable[[Mapping[str, str]], tuple[str, int]]
             ) -> tuple[dict[str, Any], str]:
    asset = _asset(coin_id)
    vs = cp.vs_currency(query)
    interval, count = pick(query)
    return engine_params("candles", {"id": asset.id, "vs": vs, "interval": interval, "limit": str(count)}), interval


def coin_ohlc(coin_id: str, query: Mapping[str, str]) -> Plan:
    params, interval = _candles(coin_id, query, cp.ohlc_candles)
    places = cp.precision(query)
    return OneAnswer("candles", params, functools.partial(shapes.ohlc, interval=interval, places=places),
                     lambda: CompatError(404, COIN_NOT_FOUND))


def coin_market_chart(coin_id: str, query: Mapping[str, str]) -> Plan:
    params, interval = _candles(coin_id, query, cp.chart_candles)
    places = cp.precision(query)
    return OneAnswer("candles", params,
                     lambda candles: shapes.market_chart(candles, interval, time.time(), places),
                     lambda: CompatError(404, COIN_NOT_FOUND))


def global_(query: Mapping[str, str]) -> Plan:
    return OneAnswer("global", engine_params("global", {"vs": DETAIL_VS}), shapes.global_data)


def trending(query: Mapping[str, str]) -> Plan:
    return OneAnswer("trending", engine_params("trending", {}), shapes.trending)


def coins_list(query: Mapping[str, str]) -> Any:
    inactive = (query.get("status") or "active").strip().lower() == "inactive"
    return shapes.coins_list(assets.current(), include_platform=cp.flag(query, "include_platform"),
                             inactive=inactive)


def search(query: Mapping[str, str]) -> Any:
    return shapes.search(assets.current().search(cp.search_query(query), cp.SEARCH_MAX_COINS * 2)[
        : cp.SEARCH_MAX_COINS])


ROUTES: dict[str, Callable[[Mapping[str, str]], Plan | Any]] = {
    "ping": lambda query: PING,
    "simple/price": simple_price,
    "simple/supported_vs_currencies": lambda query: list(shapes.SUPPORTED_VS_CURRENCIES),
    "coins/list": coins_list,
    "coins/markets": coins_markets,
    "global": global_,
    "search": search,
    "search/trending": trending,
}
# coins/{id}/<what>; an empty <what> is the coin itself.
COIN_ROUTES: dict[str, Callable[[str, Mapping[str, str]], Plan | Any]] = {
    "": coin, "ohlc": coin_ohlc, "market_chart": coin_market_chart,
}


class CoinGecko:
    name = "coingecko"
    prefix = "/compat/coingecko/api/v3/"

    def plan(self, path: str, query: Mapping[str, str]) -> Plan | Any:
        route = ROUTES.get(path)
        if route is not None:
            return route(query)
        head, _, rest = path.partition("/")
        coin_id, _, what = rest.partition("/")
        if head == "coins" and coin_id and what in COIN_ROUTES:
            return COIN_ROUTES[what](coin_id, query)
        raise CompatError(404, {"error": "Incorrect path. Please check https://docs.coingecko.com/"})

    def error(self, status: int, message: str) -> Any:
        if status in (400, 404):
            return {"error": message}
        return {"status": {"error_code": status, "error_message": message}}

    def failure(self, exc: AllProvidersFailed, plan: Plan) -> CompatError:
        if all_not_found(exc):
            return CompatError(404, COIN_NOT_FOUND)
        body = self.error(503, f"no provider could answer {exc.capability}")
        body["attempts"] = [a.as_dict() for a in exc.attempts]
        return CompatError(503, body, retry_after(exc, time.time()))


DIALECT = CoinGecko()
