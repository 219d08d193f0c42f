"""CoinGecko: /simple/price, keyed by coin id then by vs currency; all ids in one request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import symbols
from providers.adapters.base import Adapter, AdapterError, BadData, Outcome, RequestSpec
from providers.schemas import iso_from_epoch, make_quote


def _body_error_code(payload: Any) -> int | None:
    # CoinGecko wraps errors as {"status": {...}} or {"error": {"status": {...}}} depending on endpoint.
    if not isinstance(payload, Mapping):
        return None
    status = payload.get("status")
    if not isinstance(status, Mapping) and isinstance(payload.get("error"), Mapping):
        status = payload["error"].get("status")
    if isinstance(status, Mapping) and isinstance(status.get("error_code"), int):
        return status["error_code"]
    return None


class CoinGecko(Adapter):
    slug = "coingecko"
    capabilities = frozenset({"price"})

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        return RequestSpec(
            path="/simple/price",
            params={
                "ids": ",".join(params["ids"]),
                "vs_currencies": params["vs"],
                "include_market_cap": "true",
                "include_24hr_vol": "true",
                "include_24hr_change": "true",
                "include_last_updated_at": "true",
            },
        )

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        code = _body_error_code(payload)
        if code is not None:
            raise AdapterError(f"{self.slug}: error_code {code} inside HTTP 200", outcome=self._outcome_for_code(code))
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object keyed by coin id")
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            item = payload.get(coin_id)
            # Unknown ids are simply absent (often with an empty object) rather than an error.
            if not isinstance(item, Mapping) or vs not in item:
                raise BadData(f"{self.slug}: no {vs} price for {coin_id}")
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=symbols.symbol_for(coin_id),
                vs=vs,
                price=item[vs],
                market_cap=item.get(f"{vs}_market_cap"),
                volume_24h=item.get(f"{vs}_24h_vol"),
                change_24h_pct=item.get(f"{vs}_24h_change"),
                last_updated=iso_from_epoch(item.get("last_updated_at"), slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # A 401/403 whose body says 429 is still a rate limit.
        code = _body_error_code(payload)
        if code in (429, 1020):
            return Outcome.RATE_LIMITED
        return super().classify_http_error(status, payload)

    def _outcome_for_code(self, code: int) -> Outcome:
        if code in (429, 1020):
            return Outcome.RATE_LIMITED
        if 500 <= code < 600 or code == 408:
            return Outcome.TRANSIENT
        # 10002 missing key, 10005 plan, 10010/10011 wrong key type: retrying will not help.
        return Outcome.PERMANENT
