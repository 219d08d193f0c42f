"""Binance spot: /api/v3/ticker/24hr?symbols=[...], one array for all pairs, every number a string."""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from providers import assets
from providers.adapters.base import BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.listings import exchange_listing, rows_of
from providers.assets import Listing
from providers.market_depth import (
    ExchangeDepth,
    book_of,
    check_limit,
    interval_code,
    make_candles,
    pair_for,
)
from providers.schemas import make_quote, number
from providers.tickers import make_ticker
from providers.values import iso_from_millis

# Binance has no USD book worth using: USD prices come from the deepest stablecoin pairs.
QUOTE_ASSET: Mapping[str, str] = MappingProxyType({"usd": "USDT"})
# Binance names candle intervals as callers do; one klines call answers at most 1000.
BINANCE_INTERVALS = {name: name for name in ("1m", "5m", "15m", "1h", "4h", "1d")}
BINANCE_MAX_CANDLES = 1000


class Binance(ExchangeDepth):
    slug = "binance"
    capabilities = frozenset({"price", "candles", "orderbook", "ticker"})
    # 403 is Binance's WAF limit and 418 an IP ban after ignored 429s: both are rate limits.
    # 451 is a whole country blocked, whatever its body says: next exchange, no breaker.
    status_outcomes = {403: Outcome.RATE_LIMITED, 451: Outcome.PERMANENT}
    # -1003 "too many requests" sometimes arrives without a 429; -1121 "Invalid symbol." (with a 400)
    # is a pair Binance does not list: not found, which the next exchange may still know.
    error_codes = {-1003: Outcome.RATE_LIMITED, -1121: Outcome.NOT_FOUND}
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})
    # The quote asset a vs currency is asked in; any other vs is its own code (btc -> BTC).
    quote_assets: ClassVar[Mapping[str, str]] = QUOTE_ASSET

    def _pair(self, coin_id: str, vs: str) -> str:
        base = assets.require_name(self.names_slug, coin_id, asker=self.slug)
        return base + self.quote_assets.get(vs, vs.upper())

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        pairs = [self._pair(coin_id, params["vs"]) for coin_id in params["ids"]]
        # A JSON array without spaces; the engine URL-encodes it.
        return RequestSpec(path="/api/v3/ticker/24hr", params={"symbols": json.dumps(pairs, separators=(",", ":"))})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected an array of tickers")
        by_pair = {row.get("symbol"): row for row in payload if isinstance(row, Mapping)}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = by_pair.get(self._pair(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            close_ms = row.get("closeTime")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                price=row.get("lastPrice"),
                volume_24h=row.get("quoteVolume"),
                change_24h_pct=row.get("priceChangePercent"),
                last_updated=iso_from_millis(close_ms if isinstance(close_ms, int) else None, slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    # --- market depth: /api/v3/klines and /api/v3/depth ------------------------------------------

    def candles_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._pair, params["id"], params["vs"])
        query = {"symbol": symbol, "interval": interval_code(BINANCE_INTERVALS, params, slug=self.slug),
                 "limit": check_limit(params, BINANCE_MAX_CANDLES, slug=self.slug)}
        if params.get("start") is not None:
            query["startTime"] = params["start"] * 1000
        return RequestSpec(path="/api/v3/klines", params=query)

    def parse_candles(self, params: Mapping[str, Any], payload: Any) -> list[dict[str, Any]]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, list):
            raise BadData(f"{self.slug}: expected an array of klines")
        # [open time ms, open, high, low, close, base volume, close time ms, quote volume, ...]
        return make_candles(payload, params, slug=self.slug, unit_ms=True)

    def orderbook_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._pair, params["id"], params["vs"])
        return RequestSpec(path="/api/v3/depth", params={"symbol": symbol, "limit": params["depth"]})

    def parse_orderbook(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a depth object")
        return book_of(payload, slug=self.slug, params=params)

    # --- 24 h ticker: /api/v3/ticker/24hr?symbol= (one object; the price code asks symbols=[...]) ---

    def ticker_request(self, params: Mapping[str, Any]) -> RequestSpec:
        symbol = pair_for(self._pair, params["id"], params["vs"])
        return RequestSpec(path="/api/v3/ticker/24hr", params={"symbol": symbol})

    def parse_ticker(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        self.raise_for_body_error(payload)
        symbol = self._pair(params["id"], params["vs"])
        if not isinstance(payload, Mapping) or payload.get("symbol") != symbol:
            raise BadData(f"{self.slug}: expected the 24 h ticker object of {symbol}")
        opened, closed = (self._iso_ms(payload.get(name), name) for name in ("openTime", "closeTime"))
        return make_ticker(
            slug=self.slug, params=params, pair=symbol, last=payload.get("lastPrice"), open=payload.get("openPrice"),
            high=payload.get("highPrice"), low=payload.get("lowPrice"), volume=payload.get("volume"),
            quote_volume=payload.get("quoteVolume"), change=payload.get("priceChange"),
            change_pct=payload.get("priceChangePercent"), vwap=payload.get("weightedAvgPrice"),
            bid=payload.get("bidPrice"), bid_size=payload.get("bidQty"), ask=payload.get("askPrice"),
            ask_size=payload.get("askQty"), open_time=opened, close_time=closed, trades=payload.get("count"))

    def _iso_ms(self, value: Any, name: str) -> str | None:
        millis = number(value, name, slug=self.slug)
        return iso_from_millis(millis, slug=self.slug)

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or "code" not in payload:
            return None
        return ProviderError(f"error inside HTTP 200: {payload.get('msg')!r}", code=payload["code"])

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/api/v3/exchangeInfo", params={"permissions": "SPOT"})

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return exchange_listing((str(s.get("baseAsset") or ""), str(s.get("quoteAsset") or ""))
                                for s in rows_of(payload, self.slug, "symbols") if s.get("status") == "TRADING")
