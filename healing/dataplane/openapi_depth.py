"""OpenAPI tables of the market depth endpoints (candles, orderbook, ticker), merged into openapi.py's."""

from __future__ import annotations

from typing import Any

from healing.dataplane import params_depth
from healing.dataplane.openapi_parts import query_param as _param
from providers import market_depth as md
from providers.tickers import Ticker

Schema = dict[str, Any]

DEPTH_DATACLASSES = (md.Candle, md.OrderBook, Ticker)

DEPTH_DATA_SCHEMAS: dict[str, Schema] = {
    "candles": {"type": "array", "items": {"$ref": "#/components/schemas/Candle"}},
    "orderbook": {"$ref": "#/components/schemas/OrderBook"},
    "ticker": {"$ref": "#/components/schemas/Ticker"},
}


_PAIR = [
    _param("id", "One coin id (CoinGecko style).", {"type": "string", "example": "bitcoin"}, required=True),
    _param("vs", "Quote currency (USD is served by USDT books where the exchange has no USD book).",
           {"type": "string", "default": "usd", "example": "usd"}),
]

DEPTH_ROUTE_PARAMS: dict[str, list[Schema]] = {
    "candles": [
        *_PAIR,
        _param("interval", "Candle length; every provider's candles open on the same UTC boundaries.",
               {"type": "string", "enum": list(md.INTERVAL_SECONDS), "default": params_depth.DEFAULT_INTERVAL}),
        _param("limit", "How many candles, oldest first (the newest ones without start).",
               {"type": "integer", "minimum": 1, "maximum": md.CANDLES_MAX_LIMIT, "default": md.CANDLES_DEFAULT_LIMIT}),
        _param("start", "First candle at or after this time: ISO-8601 (UTC when no offset) or epoch seconds.",
               {"type": "string", "example": "2025-06-10T00:00:00Z"}),
    ],
    "orderbook": [
        *_PAIR,
        _param("depth", "Levels per side, best first.",
               {"type": "integer", "minimum": 1, "maximum": md.ORDERBOOK_MAX_DEPTH,
                "default": md.ORDERBOOK_DEFAULT_DEPTH}),
    ],
    "ticker": _PAIR,
}
