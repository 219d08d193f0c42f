"""Parameters of the market depth endpoints: /api/data/candles, /api/data/orderbook and /api/data/ticker.

All three name one coin as `id` (a CoinGecko-style id, checked like the price endpoint's `ids`) and a
quote currency `vs`. Candles take `interval`, `limit` and an optional `start` (ISO-8601 or epoch
seconds), which is normalized to the first candle boundary at or after it, so two requests for
the same candles share one cache key. healing.dataplane.params adds `ROUTES` to its table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from healing.dataplane import param_coins
from healing.dataplane.param_errors import ParamError, whole_number
from providers.market_depth import (
    CANDLES_DEFAULT_LIMIT,
    CANDLES_MAX_LIMIT,
    INTERVAL_SECONDS,
    ORDERBOOK_DEFAULT_DEPTH,
    ORDERBOOK_MAX_DEPTH,
)
from providers.values import MAX_PLAUSIBLE_EPOCH_S, MIN_PLAUSIBLE_EPOCH_S

DEFAULT_INTERVAL = "1h"


def coin_id(query: Mapping[str, str]) -> str:
    """One coin, named as `ids=` names coins: an id, a symbol or chain:contract (param_coins.coin_id)."""
    raw = (query.get("id") or "").strip()
    if not raw:
        raise ParamError("id", "id is required: one coin id, e.g. id=bitcoin")
    if "," in raw:
        raise ParamError("id", "id names one coin; ask once per coin")
    return param_coins.coin_id(raw, "id")


def interval(query: Mapping[str, str]) -> str:
    value = (query.get("interval") or DEFAULT_INTERVAL).strip()
    if value not in INTERVAL_SECONDS:
        raise ParamError("interval", f"interval must be one of {', '.join(INTERVAL_SECONDS)}, got {value[:20]!r}")
    return value


def start_epoch(query: Mapping[str, str], step: int) -> int | None:
    raw = (query.get("start") or "").strip()
    if not raw:
        return None
    try:
        if raw.replace(".", "", 1).isdigit():
            seconds = float(raw)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            # A time without an offset is read as UTC, never as the server's local time.
            seconds = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    except ValueError:
        raise ParamError("start", f"start must be ISO-8601 (2025-06-10T12:00:00Z) or epoch seconds, "
                                     f"got {raw[:40]!r}") from None
    if not MIN_PLAUSIBLE_EPOCH_S <= seconds < MAX_PLAUSIBLE_EPOCH_S:
        raise ParamError("start", f"start {raw[:40]!r} is not a plausible time (epoch seconds, 2009 to 2100)")
    return -(-int(seconds) // step) * step


def candles_params(query: Mapping[str, str]) -> dict[str, Any]:
    chosen = interval(query)
    return {"id": coin_id(query), "vs": param_coins.vs_code(query), "interval": chosen,
            "limit": whole_number(query, "limit", default=CANDLES_DEFAULT_LIMIT, low=1, high=CANDLES_MAX_LIMIT),
            "start": start_epoch(query, INTERVAL_SECONDS[chosen])}


def orderbook_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"id": coin_id(query), "vs": param_coins.vs_code(query),
            "depth": whole_number(query, "depth", default=ORDERBOOK_DEFAULT_DEPTH, low=1, high=ORDERBOOK_MAX_DEPTH)}


def ticker_params(query: Mapping[str, str]) -> dict[str, Any]:
    return {"id": coin_id(query), "vs": param_coins.vs_code(query)}


# The arguments of each CapabilityRoute: healing.dataplane.params adds them to its table.
ROUTES = (
    ("candles", "candles", candles_params, "/api/data/candles?id=bitcoin&vs=usd&interval=1h&limit=24",
     "OHLCV candles of one pair, oldest first", ("id", "vs", "interval", "limit", "start")),
    ("orderbook", "orderbook", orderbook_params, "/api/data/orderbook?id=bitcoin&vs=usd&depth=10",
     "Top of one pair's order book: best bid/ask, spread, levels", ("id", "vs", "depth")),
    ("ticker", "ticker", ticker_params, "/api/data/ticker?id=bitcoin&vs=usdt",
     "24 h ticker of one pair: last, open, high, low, volumes, change, VWAP, best bid/ask", ("id", "vs")),
)
