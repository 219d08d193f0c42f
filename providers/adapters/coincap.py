"""CoinCap v3: /assets?ids=..., every number a string, USD only. The engine adds the API key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import symbols
from providers.adapters.base import Adapter, AdapterError, BadData, Outcome, PermanentError, RequestSpec
from providers.schemas import iso_from_epoch, make_quote, number

# CoinCap quotes assets in USD only; converting would need a second call to /rates.
SUPPORTED_VS = frozenset({"usd"})


class CoinCap(Adapter):
    slug = "coincap"
    capabilities = frozenset({"price"})

    def _coincap_id(self, coin_id: str) -> str:
        coin = symbols.coin(coin_id)
        if coin is None:
            raise PermanentError(f"{self.slug}: unknown symbol for id {coin_id!r}")
        return coin.coincap

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        if params["vs"] not in SUPPORTED_VS:
            raise PermanentError(f"{self.slug}: quotes only in USD, not {params['vs']!r}")
        ids = [self._coincap_id(coin_id) for coin_id in params["ids"]]
        return RequestSpec(path="/assets", params={"ids": ",".join(ids)})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object with data[]")
        if "error" in payload:
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {payload['error']!r}")
        data = payload.get("data")
        # The retired v2 answers 200 with {"data": {"message": "We are deprecating..."}}.
        if isinstance(data, Mapping):
            raise BadData(f"{self.slug}: notice instead of data: {str(data.get('message'))[:120]!r}")
        if not isinstance(data, list):
            raise BadData(f"{self.slug}: data is not a list")
        stamp_ms = number(payload.get("timestamp"), "timestamp", slug=self.slug)
        answered_at = iso_from_epoch(stamp_ms / 1000 if stamp_ms else None, slug=self.slug)
        by_id = {asset.get("id"): asset for asset in data if isinstance(asset, Mapping)}
        quotes = []
        for coin_id in params["ids"]:
            asset = by_id.get(self._coincap_id(coin_id))
            if asset is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=asset.get("symbol") or symbols.symbol_for(coin_id),
                vs=params["vs"],
                price=asset.get("priceUsd"),
                market_cap=asset.get("marketCapUsd"),
                volume_24h=asset.get("volumeUsd24Hr"),
                change_24h_pct=asset.get("changePercent24Hr"),
                last_updated=answered_at,
            )
            quotes.append(quote.to_dict())
        return quotes

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # v3 is credit-based; a spent balance (exact status and text unconfirmed) is a rate limit.
        message = str(payload.get("error", "")).lower() if isinstance(payload, Mapping) else ""
        if status in (402, 403) and ("credit" in message or "limit" in message):
            return Outcome.RATE_LIMITED
        return super().classify_http_error(status, payload)
