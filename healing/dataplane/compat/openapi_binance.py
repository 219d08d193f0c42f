"""The Binance drop-in API in the OpenAPI schema (a drf-spectacular postprocessing hook after the data
plane's): every /compat/binance/api/v3/ path with Binance's own parameters, answer shapes and
`{"code", "msg"}` errors."""

from __future__ import annotations

from typing import Any

from healing.dataplane.compat import binance as dialect
from healing.dataplane.compat import binance_params as bp
from healing.dataplane.openapi import RATE_HEADERS, SOURCE_HEADERS
from healing.dataplane.openapi_parts import query_param, ref
from providers.market_depth import CANDLES_MAX_LIMIT, INTERVAL_SECONDS, ORDERBOOK_MAX_DEPTH

Schema = dict[str, Any]

PREFIX = dialect.Binance.prefix
TAG = "binance"
DECIMAL: Schema = {"type": "string", "nullable": True, "description": "A decimal number, eight places."}
LEVEL: Schema = {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2,
                 "description": "[price, quantity]"}
MILLIS: Schema = {"type": "integer", "nullable": True, "description": "Epoch milliseconds."}


def _json(schema: Schema, description: str, headers: Schema | None = None) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}},
            "headers": headers or {}}


def _error(description: str, **headers: Schema) -> Schema:
    return _json(ref("BinanceError"), description, headers)


def _header(description: str, *, required: bool = False) -> Schema:
    return {"description": description, "required": required, "schema": {"type": "string"}}


ANSWER_HEADERS = {**SOURCE_HEADERS, **RATE_HEADERS,
                  dialect.USD_FOR_USDT_HEADER: _header("Symbols answered from their USD pair "
                                                       "(only with CRYPTOHUB_COMPAT_USDT_AS_USD).")}
ERRORS = {
    "400": _error("A bad parameter, in Binance's codes: -1100 illegal characters, -1101 duplicate or too many "
                  "symbols, -1102 a mandatory parameter missing, -1120 interval, -1121 unknown symbol, -1128 "
                  "symbol with symbols, -1130 a bad value.", **RATE_HEADERS),
    "401": _error("No API key where one is required, or an unknown or disabled key (code -2015).",
                  **{"WWW-Authenticate": _header("Bearer", required=True)}),
    "403": _error("This client key may not call this endpoint (code -2015)."),
    "429": _error("Over the caller's inbound limit (code -1003).",
                  **{"Retry-After": {**_header("Seconds to wait.", required=True), "schema": {"type": "integer"}}}),
    "503": _error("No exchange could answer (code -1000, every attempt listed), or no pool serves the endpoint.",
                  **{"Retry-After": {**_header("Seconds until an exchange is expected back, when known."),
                                     "schema": {"type": "integer"}}}, **RATE_HEADERS),
}
SYMBOL = query_param("symbol", "A spot symbol, base and quote asset glued (BTCUSDT).",
                     {"type": "string", "example": "BTCUSDT"})
SYMBOLS = query_param("symbols", f'A JSON array of symbols (["BTCUSDT","ETHUSDT"]), at most {bp.MAX_SYMBOLS}; '
                      "answered as an array in that order.", {"type": "string", "example": '["BTCUSDT","ETHUSDT"]'})


def _object(properties: Schema, required: list[str] | None = None) -> Schema:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


def _one_or_many(name: str) -> Schema:
    return {"oneOf": [ref(name), {"type": "array", "items": ref(name)}]}


def components() -> dict[str, Schema]:
    mini = {name: DECIMAL for name in ("openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume")}
    counts = {"openTime": MILLIS, "closeTime": MILLIS, "firstId": {"type": "integer", "nullable": True},
              "lastId": {"type": "integer", "nullable": True}, "count": {"type": "integer", "nullable": True}}
    full = {name: DECIMAL for name in ("priceChange", "priceChangePercent", "weightedAvgPrice", "prevClosePrice",
                                       "lastQty", "bidPrice", "bidQty", "askPrice", "askQty")}
    return {
        "BinanceError": _object({"code": {"type": "integer"}, "msg": {"type": "string"}}),
        "BinanceTickerPrice": _object({"symbol": {"type": "string"}, "price": {"type": "string"}}),
        "BinanceTicker24hr": _object({"symbol": {"type": "string"}, **full, **mini, **counts},
                                     ["symbol", *mini, *counts]),
        "BinanceBookTicker": _object({"symbol": {"type": "string"}, **{n: {"type": "string"} for n in (
            "bidPrice", "bidQty", "askPrice", "askQty")}}),
        "BinanceSymbol": {**_object({"symbol": {"type": "string"}, "status": {"type": "string"},
                                     "baseAsset": {"type": "string"}, "quoteAsset": {"type": "string"},
                                     "filters": {"type": "array", "items": {"type": "object"}}}),
                          "additionalProperties": True},
    }


def _get(name: str, summary: str, description: str, parameters: list[Schema], answer: Schema,
         errors: bool = True) -> Schema:
    responses = {"200": _json(answer, "Binance's answer shape.", ANSWER_HEADERS)}
    if errors:
        responses.update(ERRORS)
    else:
        # No parameters, no exchange: only the inbound check's refusals and the last-resort 503.
        responses.update({status: ERRORS[status] for status in ("401", "403", "429", "503")})
    return {"get": {"operationId": f"compat_binance_{name}", "tags": [TAG], "summary": summary,
                    "description": description, "parameters": parameters, "responses": responses}}


def paths() -> dict[str, Schema]:
    limit = {"type": "integer", "minimum": 1}
    klines = {"type": "array", "items": {"type": "array", "minItems": 12, "maxItems": 12, "items": {}}}
    return {
        PREFIX + "ping": _get("ping", "Connectivity", "Always `{}`.", [], {"type": "object"}, errors=False),
        PREFIX + "time": _get("time", "Server time", "This server's clock.", [],
                              _object({"serverTime": {"type": "integer"}}), errors=False),
        PREFIX + "exchangeInfo": _get(
            "exchange_info", "Spot symbols", "Every coin the asset registry lists on Binance, against USDT (other "
            "quotes are served when asked by symbol). Filters are generic and permissive: no provider says what "
            "Binance's are.",
            [SYMBOL, SYMBOLS, query_param("permissions", "SPOT, or a JSON array; anything without SPOT lists none.",
                                          {"type": "string"}),
             query_param("showPermissionSets", "false drops permissionSets.", {"type": "string",
                                                                                "enum": ["true", "false"]}),
             query_param("symbolStatus", "Only TRADING symbols exist here.", {"type": "string"})],
            _object({"timezone": {"type": "string"}, "serverTime": {"type": "integer"},
                     "rateLimits": {"type": "array", "items": {"type": "object"}},
                     "exchangeFilters": {"type": "array", "items": {"type": "object"}},
                     "symbols": {"type": "array", "items": ref("BinanceSymbol")}})),
        PREFIX + "ticker/price": _get(
            "ticker_price", "Last price", "From the 24 h ticker of the pair (Binance first, then OKX, Kraken, "
            "Coinbase Exchange, KuCoin, Bitfinex). symbol or symbols is required.", [SYMBOL, SYMBOLS],
            _one_or_many("BinanceTickerPrice")),
        PREFIX + "ticker/24hr": _get(
            "ticker_24hr", "24 h statistics", "Fields no exchange gives (trade ids, lastQty) are null.",
            [SYMBOL, SYMBOLS, query_param("type", "FULL or MINI.", {"type": "string", "enum": ["FULL", "MINI"]})],
            _one_or_many("BinanceTicker24hr")),
        PREFIX + "ticker/bookTicker": _get(
            "book_ticker", "Best bid and ask", "From the top of the pair's order book.", [SYMBOL, SYMBOLS],
            _one_or_many("BinanceBookTicker")),
        PREFIX + "depth": _get(
            "depth", "Order book", f"At most {ORDERBOOK_MAX_DEPTH} levels a side (a larger limit answers that many).",
            [{**SYMBOL, "required": True},
             query_param("limit", "Levels a side.", {**limit, "default": dialect.DEPTH_DEFAULT_LIMIT})],
            _object({"lastUpdateId": {"type": "integer"}, "bids": {"type": "array", "items": LEVEL},
                     "asks": {"type": "array", "items": LEVEL}})),
        PREFIX + "klines": _get(
            "klines", "Candles", "Binance's 12-field rows, oldest first; quote volume, trade count and taker volumes "
            "are null (no exchange underneath gives them all). Intervals every exchange shares only.",
            [{**SYMBOL, "required": True},
             query_param("interval", "Candle length.", {"type": "string", "enum": list(INTERVAL_SECONDS)},
                         required=True),
             query_param("startTime", "Epoch ms.", {"type": "integer", "minimum": 0}),
             query_param("endTime", "Epoch ms.", {"type": "integer", "minimum": 0}),
             query_param("limit", f"At most {CANDLES_MAX_LIMIT}.",
                         {**limit, "default": dialect.KLINES_DEFAULT_LIMIT}),
             query_param("timeZone", "UTC only (0).", {"type": "string"})],
            klines),
        PREFIX + "avgPrice": _get(
            "avg_price", "5-minute average price", "Volume-weighted over the last five 1-minute candles.",
            [{**SYMBOL, "required": True}],
            _object({"mins": {"type": "integer"}, "price": {"type": "string"}, "closeTime": {"type": "integer"}})),
    }


def add_binance_paths(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    result.setdefault("paths", {}).update(paths())
    result.setdefault("components", {}).setdefault("schemas", {}).update(components())
    tags = result.setdefault("tags", [])
    if TAG not in {t.get("name") for t in tags}:
        tags.append({"name": TAG, "description": "Binance's public spot API, drop-in (/compat/binance/api/v3/)"})
    return result
