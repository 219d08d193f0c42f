"""The Market tab's blocks: fetched concurrently, each shaped for its template part and its chart.

The template shows numbers; charts read the `*_chart` dicts through json_script. A block whose
fetch failed keeps its Block (error + attempts) so the template can say why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.site.blocks import Block, data_block

MARKETS_SHOWN = 10
TRENDING_SHOWN = 7
FEAR_GREED_DAYS = 30
TVL_SHOWN = 10
# The price chart: hourly candles of one coin over two days, from the candles pool (exchanges).
CANDLES_COIN, CANDLES_INTERVAL, CANDLES_SHOWN = "bitcoin", "1h", 48


async def market_blocks() -> dict[str, Any]:
    global_, markets, trending, fear_greed, tvl, candles = await asyncio.gather(
        data_block("global"),
        data_block("markets", {"vs": "usd", "limit": str(MARKETS_SHOWN)}),
        data_block("trending", {"limit": str(TRENDING_SHOWN)}),
        data_block("fear-greed", {"limit": str(FEAR_GREED_DAYS)}),
        data_block("tvl"),
        data_block("candles", {"id": CANDLES_COIN, "vs": "usd", "interval": CANDLES_INTERVAL,
                               "limit": str(CANDLES_SHOWN)}),
    )
    return {
        "global": global_, "dominance": dominance(global_),
        "markets": markets, "coins": coins_of(markets),
        "trending": trending,
        "fear_greed": fear_greed, "fear_greed_now": latest_reading(fear_greed),
        "fear_greed_chart": fear_greed_chart(fear_greed),
        "tvl": tvl, "tvl_rows": top_tvl(tvl),
        "candles": candles, "candles_chart": candles_chart(candles), "candles_last": last_candle(candles),
    }


def dominance(block: Block) -> list[dict[str, Any]]:
    """BTC, ETH and the rest as shares of the whole market: the stacked bar's segments."""
    if not block.ok or not isinstance(block.data, Mapping):
        return []
    btc = block.data.get("btc_dominance_pct")
    eth = block.data.get("eth_dominance_pct")
    segments, offset = [], 0.0
    for label, value, kind in (("BTC", btc, "btc"), ("ETH", eth, "eth")):
        if isinstance(value, int | float):
            segments.append({"label": label, "pct": value, "x": offset, "kind": kind})
            offset += value
    if segments:
        segments.append({"label": "Others", "pct": max(0.0, 100.0 - offset), "x": offset, "kind": "other"})
    return segments


def coins_of(block: Block) -> list[str]:
    if not block.ok or not isinstance(block.data, Sequence):
        return []
    return [row["id"] for row in block.data if isinstance(row, Mapping) and row.get("id")]


def _readings(block: Block) -> list[Mapping[str, Any]]:
    if not block.ok or not isinstance(block.data, Sequence):
        return []
    return [r for r in block.data if isinstance(r, Mapping) and isinstance(r.get("value"), int | float)]


def latest_reading(block: Block) -> Mapping[str, Any] | None:
    readings = _readings(block)
    return readings[0] if readings else None  # newest first, as the capability answers


def fear_greed_chart(block: Block) -> dict[str, Any]:
    """Oldest first for the chart (the capability answers newest first)."""
    readings = [r for r in _readings(block) if r.get("timestamp")][::-1]
    return {"labels": [r["timestamp"] for r in readings],
            "series": [{"label": "Fear & greed", "values": [r["value"] for r in readings]}]}


def _candles(block: Block) -> list[Mapping[str, Any]]:
    if not block.ok or not isinstance(block.data, Sequence):
        return []
    return [c for c in block.data if isinstance(c, Mapping) and c.get("open_time")
            and all(isinstance(c.get(k), int | float) for k in ("high", "low", "close"))]


def candles_chart(block: Block) -> dict[str, Any]:
    """Close, high and low per candle, oldest first (as the capability answers)."""
    candles = _candles(block)
    return {"labels": [c["open_time"] for c in candles],
            "series": [{"label": label, "values": [c[key] for c in candles]}
                       for label, key in (("close", "close"), ("high", "high"), ("low", "low"))]}


def last_candle(block: Block) -> Mapping[str, Any] | None:
    candles = _candles(block)
    return candles[-1] if candles else None


def top_tvl(block: Block) -> list[Mapping[str, Any]]:
    """The largest entries by TVL, whatever the answer's shape (a list, or one protocol/chain)."""
    if not block.ok:
        return []
    data = block.data
    if isinstance(data, Mapping):
        rows = data.get("protocols") or data.get("chains") or [data]
    elif isinstance(data, Sequence):
        rows = data
    else:
        return []
    rows = [row for row in rows if isinstance(row, Mapping) and isinstance(row.get("tvl"), int | float)]
    return sorted(rows, key=lambda row: row["tvl"], reverse=True)[:TVL_SHOWN]
