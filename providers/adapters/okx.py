"""OKX v5: /market/ticker?instId=BTC-USDT for one pair, /market/tickers?instType=SPOT to batch.

Every value is a string; code "0" is success and any other code is an error, even in a 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers import assets
from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.adapters.listings import exchange_listing, rows_of
from providers.assets import Listing
from providers.schemas import iso_from_epoch, make_quote, number

SUCCESS_CODE = "0"
QUOTE_ASSET = {"usd": "USDT"}
# The 24 h change is derived from open24h; float noise past 4 decimals means nothing.
PCT_DECIMALS = 4


class Okx(Adapter):
    slug = "okx"
    capabilities = frozenset({"price"})
    error_codes = {
        "50011": Outcome.RATE_LIMITED,
        # 50001 service unavailable, 50004 endpoint timeout, 50013 system busy.
        **dict.fromkeys(("50001", "50004", "50013"), Outcome.TRANSIENT),
    }
    # 51xxx are request errors such as 51001 "Instrument ID does not exist".
    error_code_prefixes = {"51": Outcome.PERMANENT}

    def _inst_id(self, coin_id: str, vs: str) -> str:
        base = assets.require_name(self.slug, coin_id)
        return f"{base}-{QUOTE_ASSET.get(vs, vs.upper())}"

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        inst_ids = [self._inst_id(coin_id, params["vs"]) for coin_id in params["ids"]]
        if len(inst_ids) == 1:
            return RequestSpec(path="/api/v5/market/ticker", params={"instId": inst_ids[0]})
        return RequestSpec(path="/api/v5/market/tickers", params={"instType": "SPOT"})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an envelope object")
        self.raise_for_body_error(payload)
        data = payload.get("data")
        if not isinstance(data, list):
            raise BadData(f"{self.slug}: data is not a list")
        rows = {row.get("instId"): row for row in data if isinstance(row, Mapping)}
        vs = params["vs"]
        quotes = []
        for coin_id in params["ids"]:
            row = rows.get(self._inst_id(coin_id, vs))
            if row is None:
                raise BadData(f"{self.slug}: {coin_id} missing from the answer")
            last = number(row.get("last"), "last", slug=self.slug)
            open_24h = number(row.get("open24h"), "open24h", slug=self.slug)
            stamp_ms = number(row.get("ts"), "ts", slug=self.slug)
            quote = make_quote(
                slug=self.slug,
                id=coin_id,
                symbol=assets.symbol_for(coin_id),
                vs=vs,
                price=last,
                # For spot pairs volCcy24h is in the quote currency (vol24h is in the base asset).
                volume_24h=row.get("volCcy24h"),
                change_24h_pct=round((last - open_24h) / open_24h * 100, PCT_DECIMALS) if last and open_24h else None,
                last_updated=iso_from_epoch(stamp_ms / 1000 if stamp_ms else None, slug=self.slug),
            )
            quotes.append(quote.to_dict())
        return quotes

    def body_error(self, payload: Any) -> ProviderError | None:
        code = str(payload.get("code")) if isinstance(payload, Mapping) else SUCCESS_CODE
        if code == SUCCESS_CODE:
            return None
        return ProviderError(f"code {code} inside HTTP 200: {str(payload.get('msg'))[:120]!r}", code=code)

    # --- asset listing (the registry sync) ---------------------------------------------------

    def listing_request(self) -> RequestSpec:
        return RequestSpec(path="/api/v5/public/instruments", params={"instType": "SPOT"})

    def parse_listing(self, payload: Any) -> list[Listing]:
        if isinstance(payload, Mapping):
            self.raise_for_body_error(payload)
        return exchange_listing((str(s.get("baseCcy") or ""), str(s.get("quoteCcy") or ""))
                                for s in rows_of(payload, self.slug, "data") if s.get("state", "live") == "live")
