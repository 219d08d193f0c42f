"""CoinPaprika: /tickers/{id} for one coin, /tickers (every coin, ~2,500) to batch several."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import symbols
from providers.adapters.base import Adapter, AdapterError, BadData, PermanentError, RequestSpec
from providers.schemas import iso_from_string, make_quote


class CoinPaprika(Adapter):
    slug = "coinpaprika"
    capabilities = frozenset({"price"})

    def _paprika_id(self, coin_id: str) -> str:
        coin = symbols.coin(coin_id)
        if coin is None:
            raise PermanentError(f"{self.slug}: unknown symbol for id {coin_id!r}")
        return coin.paprika

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        paprika_ids = [self._paprika_id(coin_id) for coin_id in params["ids"]]
        quotes = {"quotes": params["vs"].upper()}
        # The full list is a multi-MB answer, so a single coin uses its own small endpoint.
        if len(paprika_ids) == 1:
            return RequestSpec(path=f"/tickers/{paprika_ids[0]}", params=quotes)
        return RequestSpec(path="/tickers", params=quotes)

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        if isinstance(payload, Mapping) and "error" in payload:
            raise AdapterError(f"{self.slug}: error inside HTTP 200: {payload['error']!r}")
        tickers = [payload] if isinstance(payload, Mapping) else payload
        if not isinstance(tickers, list):
            raise BadData(f"{self.slug}: expected a ticker or a list of tickers")
        by_id = {t.get("id"): t for t in tickers if isinstance(t, Mapping)}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            ticker = by_id.get(self._paprika_id(coin_id))
            quote_block = (ticker or {}).get("quotes") or {}
            data = quote_block.get(vs.upper()) if isinstance(quote_block, Mapping) else None
            if not isinstance(data, Mapping):
                raise BadData(f"{self.slug}: no {vs} quote for {coin_id}")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=ticker.get("symbol") or symbols.symbol_for(coin_id),
                vs=vs,
                price=data.get("price"),
                market_cap=data.get("market_cap"),
                volume_24h=data.get("volume_24h"),
                change_24h_pct=data.get("percent_change_24h"),
                last_updated=iso_from_string(ticker.get("last_updated"), slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

