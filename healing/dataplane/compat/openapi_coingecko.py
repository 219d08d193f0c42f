"""The CoinGecko drop-in (/compat/coingecko/api/v3/...) in the OpenAPI schema: a drf-spectacular
postprocessing hook after healing.dataplane.openapi's.

Answers are documented in CoinGecko's shapes, with null wherever no provider can fill a value;
errors in its two shapes: `{"error": "..."}` (400, 404) and `{"status": {"error_code",
"error_message"}}` (401, 403, 429 with Retry-After, 503 with the attempts).
"""

from __future__ import annotations

from typing import Any

from healing.dataplane.compat import coingecko_params as cp
from healing.dataplane.compat.coingecko import DIALECT
from healing.dataplane.compat.coingecko_shapes import MARKET_ROW_KEYS
from healing.dataplane.openapi import RATE_HEADERS, SOURCE_HEADERS, _header, _json
from healing.dataplane.openapi_parts import ref

Schema = dict[str, Any]
TAG = "compat-coingecko"

NUMBER = {"type": "number", "nullable": True}
STRING = {"type": "string", "nullable": True}
INTEGER = {"type": "integer", "nullable": True}
NUMBER_MAP = {"type": "object", "additionalProperties": {"type": "number"}}


def _obj(properties: Schema, required: list[str] | None = None, **extra: Any) -> Schema:
    # OpenAPI 3.0 refuses an empty `required` list: leave it out instead.
    return {"type": "object", "properties": properties, **({"required": required} if required else {}), **extra}


def components() -> dict[str, Schema]:
    status = _obj({"error_code": {"type": "integer"}, "error_message": {"type": "string"}},
                  ["error_code", "error_message"])
    market_row = _obj({key: NUMBER for key in MARKET_ROW_KEYS} | {
        "id": {"type": "string"}, "symbol": STRING, "name": STRING, "image": STRING, "market_cap_rank": INTEGER,
        "ath_date": STRING, "atl_date": STRING, "last_updated": STRING,
        "roi": {"type": "object", "nullable": True}, "sparkline_in_7d": {"type": "object"}},
        list(MARKET_ROW_KEYS), additionalProperties={"type": "number", "nullable": True})
    trending_item = _obj({"item": _obj({
        "id": {"type": "string"}, "name": STRING, "symbol": STRING, "market_cap_rank": INTEGER,
        "score": {"type": "integer"}, "data": _obj({"price": NUMBER})}, ["id", "score"])}, ["item"])
    return {
        "CoinGeckoError": _obj({"error": {"type": "string"}}, ["error"]),
        "CoinGeckoStatusError": _obj({"status": status, "attempts": {"type": "array", "items": {"type": "object"}}},
                                     ["status"]),
        "CoinGeckoMarketRow": market_row,
        "CoinGeckoTrending": _obj({"coins": {"type": "array", "items": trending_item},
                                   "nfts": {"type": "array"}, "categories": {"type": "array"}},
                                  ["coins", "nfts", "categories"]),
    }


def _flat_error(description: str) -> Schema:
    return {**_json(ref("CoinGeckoError"), description), "headers": RATE_HEADERS}


def _status_error(description: str, **headers: Schema) -> Schema:
    return {**_json(ref("CoinGeckoStatusError"), description), "headers": headers}


ERRORS = {
    "401": _status_error("An unknown or disabled client key, or none where one is required."),
    "403": _status_error("This client key may not call this endpoint."),
    "429": _status_error("Over cryptohub's inbound limit for this caller.",
                         **{"Retry-After": _header("Seconds to wait.", required=True)}),
    "503": _status_error("No provider could answer (every attempt is listed), no pool serves this endpoint, or "
                         "the gateway could not answer now.",
                         **{"Retry-After": _header("Seconds until a provider is expected back, when known.")}),
}
BAD = {"400": _flat_error("A missing or invalid parameter (CoinGecko's `{\"error\": ...}`).")}
NOT_FOUND = {"404": _flat_error("No coin by that id: `{\"error\": \"coin not found\"}`.")}


def _q(name: str, schema: Schema, *, required: bool = False, description: str = "") -> Schema:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _flag(name: str, description: str = "", default: bool = False) -> Schema:
    return _q(name, {"type": "boolean", "default": default}, description=description)


PRECISION = _q("precision", {"type": "string", "pattern": r"^(full|[0-9]|1[0-8])$"},
               description="`full` or 0 to 18 decimals.")
COIN_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "example": "bitcoin"}
VS_CURRENCY = _q("vs_currency", {"type": "string"}, required=True, description="e.g. usd")


def _get(op_id: str, summary: str, description: str, parameters: list[Schema], ok: Schema,
         errors: Schema) -> Schema:
    return {"get": {
        "operationId": f"compat_coingecko_{op_id}", "tags": [TAG], "summary": summary, "description": description,
        "parameters": parameters,
        "responses": {"200": {**_json(ok, "CoinGecko's answer."), "headers": {**SOURCE_HEADERS, **RATE_HEADERS}},
                      **errors, **ERRORS},
    }}


ARRAY = {"type": "array", "items": {"type": "object"}}


def _market_paths() -> dict[str, Schema]:
    return {
        "ping": _get("ping", "Ping", "CoinGecko's ping body; no provider is called.", [],
                     _obj({"gecko_says": {"type": "string"}}, ["gecko_says"]), {}),
        "simple/price": _get(
            "simple_price", "Prices by coin id and currency",
            "Unknown ids are left out (`{}` when none is known). One price answer per currency, at most "
            f"{cp.MAX_VS_CURRENCIES} currencies; unknown values of the asked keys are null.",
            [_q("ids", {"type": "string"}, required=True, description="Comma list of coin ids."),
             _q("vs_currencies", {"type": "string"}, required=True, description="Comma list, e.g. usd,eur."),
             _flag("include_market_cap"), _flag("include_24hr_vol"), _flag("include_24hr_change"),
             _flag("include_last_updated_at"), PRECISION],
            {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": NUMBER}}, BAD),
        "simple/supported_vs_currencies": _get(
            "supported_vs_currencies", "Currency codes", "CoinGecko's list of vs currencies.", [],
            {"type": "array", "items": {"type": "string"}}, {}),
        "coins/list": _get(
            "coins_list", "Every coin id, symbol and name", "From the asset registry, sorted by id.",
            [_flag("include_platform"), _q("status", {"type": "string", "enum": ["active", "inactive"]})], ARRAY, {}),
        "coins/markets": _get(
            "coins_markets", "Coins with market data, paged",
            "The top 250 by market cap (pages past them are empty), ordered and paged; with `ids`, exactly those "
            "coins at any rank. Every key of CoinGecko's row, null when no provider gives it.",
            [VS_CURRENCY, _q("ids", {"type": "string"}),
             _q("order", {"type": "string", "enum": list(cp.MARKET_ORDERS), "default": cp.DEFAULT_ORDER}),
             _q("per_page", {"type": "integer", "default": cp.PER_PAGE_DEFAULT}, description="Clamped to 1..250."),
             _q("page", {"type": "integer", "default": 1}), _flag("sparkline"),
             _q("price_change_percentage", {"type": "string"}, description="e.g. 1h,24h,7d"), PRECISION],
            {"type": "array", "items": ref("CoinGeckoMarketRow")}, BAD),
        "global": _get(
            "global", "Whole-market totals in USD", "Wrapped in `data`; ICO and market counts are null.", [],
            _obj({"data": _obj({"total_market_cap": NUMBER_MAP, "total_volume": NUMBER_MAP,
                                "market_cap_percentage": NUMBER_MAP, "active_cryptocurrencies": INTEGER,
                                "updated_at": INTEGER}, ["total_market_cap"])}, ["data"]), {}),
        "search/trending": _get("search_trending", "Trending coins", "Each coin wrapped in `item`, scored from 0.",
                                [], ref("CoinGeckoTrending"), {}),
    }


def _coin_paths() -> dict[str, Schema]:
    return {
        "coins/{id}": _get(
            "coin", "One coin: registry data and its USD market data",
            "Sections no provider here fills (description, links, images, tickers, community and developer "
            "data) are left out.",
            [COIN_ID, _flag("market_data", default=True)],
            _obj({"id": {"type": "string"}, "symbol": {"type": "string"}, "name": {"type": "string"},
                  "platforms": {"type": "object"}, "market_cap_rank": INTEGER, "market_data": {"type": "object"}},
                 ["id", "symbol", "name"]), {**BAD, **NOT_FOUND}),
        "coins/{id}/ohlc": _get(
            "coin_ohlc", "OHLC candles from the candles capability",
            "[close time ms, open, high, low, close]; 1h candles for 1-2 days, 4h up to 30, 1d beyond.",
            [COIN_ID, VS_CURRENCY, _q("days", {"type": "string", "enum": list(cp.OHLC_DAYS)}, required=True),
             PRECISION],
            {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}, {**BAD, **NOT_FOUND}),
        "coins/{id}/market_chart": _get(
            "coin_market_chart", "Price history from the candles capability",
            "5-minute points up to 1 day, hourly up to 90 days (4-hourly past 1000 hours), daily beyond; at most "
            "1000 points. market_caps and total_volumes are empty: candles hold neither.",
            [COIN_ID, VS_CURRENCY, _q("days", {"type": "string"}, required=True, description="A number or max."),
             _q("interval", {"type": "string", "enum": list(cp.CHART_INTERVALS)}), PRECISION],
            _obj({name: {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}
                  for name in ("prices", "market_caps", "total_volumes")}, ["prices", "market_caps", "total_volumes"]),
            {**BAD, **NOT_FOUND}),
        "search": _get(
            "search", "Search coins by id, symbol or name", "From the asset registry; the other lists are empty.",
            [_q("query", {"type": "string", "maxLength": cp.SEARCH_MAX_QUERY_CHARS}, required=True)],
            _obj({name: ARRAY for name in ("coins", "exchanges", "icos", "categories", "nfts")}, ["coins"]), BAD),
    }


def paths() -> dict[str, Schema]:
    return {DIALECT.prefix + path: item for path, item in {**_market_paths(), **_coin_paths()}.items()}


def add_coingecko_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("paths", {}).update(paths())
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    tags = result.setdefault("tags", [])
    if TAG not in {t.get("name") for t in tags}:
        tags.append({"name": TAG, "description": "CoinGecko's API v3, answered through cryptohub's engine"})
    return result
