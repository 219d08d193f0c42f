"""CryptoCompare (CoinDesk Data) min-api: /data/pricemultifull, RAW[FSYM][TSYM]; errors come as HTTP 200."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.schemas import iso_from_epoch, make_quote


class CryptoCompare(Adapter):
    slug = "cryptocompare"
    capabilities = frozenset({"price"})
    # Type 99 is CryptoCompare's "over your rate limit" error.
    error_codes = {99: Outcome.RATE_LIMITED}
    error_markers = {"rate limit": Outcome.RATE_LIMITED, "does not exist": Outcome.PERMANENT}

    def _symbol(self, coin_id: str) -> str:
        symbol = assets.require_name(self.slug, coin_id)
        return symbol

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        fsyms = ",".join(self._symbol(coin_id) for coin_id in params["ids"])
        return RequestSpec(path="/data/pricemultifull", params={"fsyms": fsyms, "tsyms": params["vs"].upper()})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        raw = payload.get("RAW")
        if not isinstance(raw, Mapping):
            raise BadData(f"{self.slug}: no RAW block")
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            symbol = self._symbol(coin_id)
            # Unknown symbols are silently left out of RAW.
            by_vs = raw.get(symbol)
            row = by_vs.get(vs.upper()) if isinstance(by_vs, Mapping) else None
            if not isinstance(row, Mapping):
                raise BadData(f"{self.slug}: no {vs} price for {coin_id}")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=symbol,
                vs=vs,
                price=row.get("PRICE"),
                market_cap=row.get("MKTCAP"),
                # Volume over all exchanges in the quote currency, like the other providers report.
                volume_24h=row.get("TOTALVOLUME24HTO"),
                change_24h_pct=row.get("CHANGEPCT24HOUR"),
                last_updated=iso_from_epoch(row.get("LASTUPDATE"), slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or payload.get("Response") != "Error":
            return None
        return ProviderError(
            f"error inside HTTP 200: {str(payload.get('Message'))[:160]!r}",
            code=payload.get("Type"),
            text=str(payload.get("Message", "")),
            # A parameter named as wrong is a refusal whatever the wording.
            unlisted=Outcome.PERMANENT if payload.get("ParamWithError") else None,
        )
