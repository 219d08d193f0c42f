"""Coinbase App API v2: /exchange-rates?currency=USD gives every coin in one answer (price = 1/rate).

/prices/BTC-USD/spot answers one pair per call, so the exchange-rates table is the one that batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, AdapterError, BadData, RequestSpec
from providers.adapters.listings import rows_of
from providers.assets import Listing
from providers.schemas import make_quote, number

# Rates carry ~11 significant digits, so the inverted price is rounded to drop float noise.
PRICE_SIGNIFICANT_DIGITS = 10


class Coinbase(Adapter):
    slug = "coinbase"
    capabilities = frozenset({"price"})

    def _symbol(self, coin_id: str) -> str:
        symbol = assets.require_name(self.slug, coin_id)
        return symbol

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        for coin_id in params["ids"]:
            self._symbol(coin_id)
        return RequestSpec(path="/exchange-rates", params={"currency": params["vs"].upper()})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        if isinstance(payload, Mapping) and payload.get("errors"):
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {payload['errors']!r}"[:200])
        data = payload.get("data") if isinstance(payload, Mapping) else None
        rates = data.get("rates") if isinstance(data, Mapping) else None
        if not isinstance(rates, Mapping):
            raise BadData(f"{self.slug}: no data.rates table")
        vs = params["vs"]
        if str(data.get("currency", "")).lower() != vs:
            raise BadData(f"{self.slug}: rates are for {data.get('currency')!r}, not {vs}")
        quotes = []
        for coin_id in params["ids"]:
            symbol = self._symbol(coin_id)
            rate = number(rates.get(symbol), f"{symbol} rate", slug=self.slug)
            if rate is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            price = float(f"{1 / rate:.{PRICE_SIGNIFICANT_DIGITS}g}") if rate > 0 else rate
            quote = make_quote(slug=self.slug, id=coin_id, symbol=symbol, vs=vs, price=price)
            quotes.append(quote.to_dict())
        return quotes

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/currencies/crypto")

    def parse_listing(self, payload: Any) -> list[Listing]:
        return [Listing(key=str(row["code"]), symbol=str(row["code"]).upper(), name=str(row.get("name") or ""))
                for row in rows_of(payload, self.slug, "data") if row.get("code")]
