"""CoinCap v3: /assets?ids=... (price), /assets?limit=N (markets); every number a string, USD only.

The engine adds the API key. Ids are CoinCap's own ("binance-coin"), mapped back to the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, BadData, Outcome, PermanentError, ProviderError, RequestSpec
from providers.adapters.listings import rank_of, rows_of
from providers.assets import Listing
from providers.schemas import make_market_row, make_quote, number
from providers.values import iso_from_millis

# CoinCap quotes assets in USD only; converting would need a second call to /rates.
SUPPORTED_VS = frozenset({"usd"})
DEFAULT_MARKETS_LIMIT = 100
MAX_MARKETS_LIMIT = 250

def _limit(params: Mapping[str, Any]) -> int:
    return max(1, min(int(params.get("limit") or DEFAULT_MARKETS_LIMIT), MAX_MARKETS_LIMIT))


class CoinCap(Adapter):
    slug = "coincap"
    capabilities = frozenset({"price", "markets"})

    def _coincap_id(self, coin_id: str) -> str:
        return assets.require_name(self.slug, coin_id)

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in self.capabilities:
            return super().build_request(capability, params)
        vs = params.get("vs", "usd")
        if vs not in SUPPORTED_VS:
            raise PermanentError(f"{self.slug}: quotes only in USD, not {vs!r}")
        if capability == "markets":
            return RequestSpec(path="/assets", params={"limit": _limit(params)})
        ids = [self._coincap_id(coin_id) for coin_id in params["ids"]]
        return RequestSpec(path="/assets", params={"ids": ",".join(ids)})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in self.capabilities:
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object with data[]")
        self.raise_for_body_error(payload)
        data = payload.get("data")
        # The retired v2 answers 200 with {"data": {"message": "We are deprecating..."}}.
        if isinstance(data, Mapping):
            raise BadData(f"{self.slug}: notice instead of data: {str(data.get('message'))[:120]!r}")
        if not isinstance(data, list):
            raise BadData(f"{self.slug}: data is not a list")
        stamp_ms = number(payload.get("timestamp"), "timestamp", slug=self.slug)
        answered_at = iso_from_millis(stamp_ms, slug=self.slug)
        if capability == "markets":
            return self._markets(params, [asset for asset in data if isinstance(asset, Mapping)], answered_at)
        by_id = {asset.get("id"): asset for asset in data if isinstance(asset, Mapping)}
        quotes = []
        for coin_id in params["ids"]:
            asset = by_id.get(self._coincap_id(coin_id))
            if asset is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=asset.get("symbol") or assets.symbol_for(coin_id),
                vs=params["vs"],
                price=asset.get("priceUsd"),
                market_cap=asset.get("marketCapUsd"),
                volume_24h=asset.get("volumeUsd24Hr"),
                change_24h_pct=asset.get("changePercent24Hr"),
                last_updated=answered_at,
            )
            quotes.append(quote.to_dict())
        return quotes

    def _markets(self, params: Mapping[str, Any], listed: list[Mapping], answered_at: str | None) -> list[dict]:
        if not listed:
            raise BadData(f"{self.slug}: empty asset list")
        # rank is a string ("1") on most answers and an integer on some: sort by its value.
        ranked = sorted(listed, key=lambda asset: number(asset.get("rank"), "rank", slug=self.slug) or float("inf"))
        rows = []
        for asset in ranked[: _limit(params)]:
            coincap_id = str(asset.get("id") or "")
            row = make_market_row(
                slug=self.slug,
                id=assets.current().id_from(self.slug, coincap_id) or coincap_id,
                vs="usd",
                price=asset.get("priceUsd"),
                rank=asset.get("rank"),
                symbol=asset.get("symbol"),
                name=asset.get("name"),
                market_cap=asset.get("marketCapUsd"),
                volume_24h=asset.get("volumeUsd24Hr"),
                change_24h_pct=asset.get("changePercent24Hr"),
                circulating_supply=asset.get("supply"),
                last_updated=answered_at,
            )
            rows.append(row.to_dict())
        return rows

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or "error" not in payload:
            return None
        return ProviderError(f"error inside HTTP 200: {payload['error']!r}", text=str(payload["error"]))

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # v3 is credit-based; a spent balance (exact status and text unconfirmed) is a rate limit.
        error = self.body_error(payload)
        message = error.text.lower() if error else ""
        if status in (402, 403) and ("credit" in message or "limit" in message):
            return Outcome.RATE_LIMITED
        return super().classify_http_error(status, payload)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/assets", params={"limit": 2000})

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return [Listing(key=str(row["id"]), symbol=str(row.get("symbol") or "").upper(),
                        name=str(row.get("name") or ""),
                        rank=rank_of(row.get("rank")))
                for row in rows_of(payload, self.slug, "data") if row.get("id") and row.get("symbol")]
