"""CryptoCompare (CoinDesk Data) min-api: /data/pricemultifull, RAW[FSYM][TSYM]; errors come as HTTP 200."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import symbols
from providers.adapters.base import Adapter, AdapterError, BadData, Outcome, RequestSpec
from providers.schemas import iso_from_epoch, make_quote

# Type 99 is CryptoCompare's "over your rate limit" error.
RATE_LIMIT_TYPE = 99


def _error_outcome(payload: Mapping[str, Any]) -> Outcome:
    message = str(payload.get("Message", "")).lower()
    if payload.get("Type") == RATE_LIMIT_TYPE or "rate limit" in message:
        return Outcome.RATE_LIMITED
    if payload.get("ParamWithError") or "does not exist" in message:
        return Outcome.PERMANENT
    return Outcome.BAD_DATA


class CryptoCompare(Adapter):
    slug = "cryptocompare"
    capabilities = frozenset({"price"})

    def _symbol(self, coin_id: str) -> str:
        symbol = symbols.require_symbol(coin_id, slug=self.slug)
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
        if payload.get("Response") == "Error":
            raise AdapterError(
                f"{self.slug}: error inside HTTP 200: {str(payload.get('Message'))[:160]!r}",
                outcome=_error_outcome(payload),
            )
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

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        if isinstance(payload, Mapping) and payload.get("Response") == "Error":
            outcome = _error_outcome(payload)
            if outcome == Outcome.RATE_LIMITED:
                return outcome
        return super().classify_http_error(status, payload)
