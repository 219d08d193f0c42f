"""Binance spot: /api/v3/ticker/24hr?symbols=[...], one array for all pairs, every number a string."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.listings import exchange_listing, rows_of
from providers.assets import Listing
from providers.schemas import iso_from_epoch, make_quote

# Binance has no USD book worth using: USD prices come from the deepest stablecoin pairs.
QUOTE_ASSET = {"usd": "USDT"}


class Binance(Adapter):
    slug = "binance"
    capabilities = frozenset({"price"})
    # 403 is Binance's WAF limit and 418 an IP ban after ignored 429s: both are rate limits.
    status_outcomes = {403: Outcome.RATE_LIMITED}
    # -1003 "too many requests" sometimes arrives without a 429.
    error_codes = {-1003: Outcome.RATE_LIMITED}

    def _pair(self, coin_id: str, vs: str) -> str:
        base = assets.require_name(self.slug, coin_id)
        return base + QUOTE_ASSET.get(vs, vs.upper())

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
                last_updated=iso_from_epoch(close_ms / 1000 if isinstance(close_ms, int) else None, slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

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
