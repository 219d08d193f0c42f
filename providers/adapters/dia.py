"""DIA (https://api.diadata.org/v1, keyless): one coin's USD price per call.

/assetQuotation/{Blockchain}/{address} names the asset exactly; the registry holds that key as
DIA's name for a coin (`Bitcoin/0x0000…0000` for a chain's native coin). A coin without one is
asked by symbol, /quotation/{SYMBOL}, only when no other listed coin shares the symbol: DIA would
answer its own pick of them. Both answer one object, `Price` a JSON number, `Time` RFC 3339 with
nanoseconds; an unknown asset is 404 {"errorcode": 404, "errormessage": ...}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from providers import assets
from providers.adapters.base import Adapter, BadData, NotFound, Outcome, PermanentError, ProviderError, RequestSpec
from providers.schemas import make_quote
from providers.values import iso_from_string

# DIA quotes in USD only.
SUPPORTED_VS = frozenset({"usd"})


class Dia(Adapter):
    slug = "dia"
    capabilities = frozenset({"price"})
    # A 404 with DIA's error body is an asset it does not quote (another provider may).
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})
    error_codes = {429: Outcome.RATE_LIMITED}

    def _asked(self, coin_id: str) -> tuple[str, str]:
        """(path, what the answer must be) for one coin."""
        key = assets.current().name_on(self.slug, coin_id)
        if key:
            return f"/assetQuotation/{quote(key, safe='/')}", key
        symbol = assets.symbol_for(coin_id)
        if symbol is None or len(assets.current().ids_for_symbol(symbol)) != 1:
            raise NotFound(
                f"{self.slug}: {coin_id!r} has no DIA asset and no symbol of its own", field="ids", values=[coin_id]
            )
        return f"/quotation/{quote(symbol, safe='')}", symbol

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability != "price":
            return super().build_request(capability, params)
        if params["vs"] not in SUPPORTED_VS:
            raise PermanentError(f"{self.slug}: quotes only in USD, not {params['vs']!r}")
        if len(params["ids"]) != 1:
            raise PermanentError(f"{self.slug}: one coin per call, not {len(params['ids'])}")
        return RequestSpec(path=self._asked(params["ids"][0])[0])

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability != "price":
            return super().parse(capability, params, payload)
        self.raise_for_body_error(payload)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a quotation object")
        [coin_id] = params["ids"]
        _, expected = self._asked(coin_id)
        if "/" in expected:
            chain, _, address = expected.partition("/")
            got = (str(payload.get("Blockchain") or ""), str(payload.get("Address") or "").lower())
            if got != (chain, address.lower()):
                raise BadData(f"{self.slug}: answered {'/'.join(got)!r}, not {expected!r}")
        elif str(payload.get("Symbol") or "").upper() != expected.upper():
            raise BadData(f"{self.slug}: answered symbol {payload.get('Symbol')!r}, not {expected!r}")
        quote_ = make_quote(
            slug=self.slug,
            id=coin_id,
            symbol=assets.symbol_for(coin_id),
            vs="usd",
            price=payload.get("Price"),
            # DIA's volume is yesterday's (a whole UTC day): the nearest it has to a 24 h volume.
            volume_24h=payload.get("VolumeYesterdayUSD"),
            change_24h_pct=self._change(payload),
            last_updated=iso_from_string(payload.get("Time"), slug=self.slug),
        )
        return [quote_.to_dict()]

    def _change(self, payload: Mapping[str, Any]) -> float | None:
        price, before = payload.get("Price"), payload.get("PriceYesterday")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (price, before)) or before <= 0:
            return None
        return round((price / before - 1) * 100, 4)

    def body_error(self, payload: Any) -> ProviderError | None:
        if not isinstance(payload, Mapping) or "errorcode" not in payload:
            return None
        message = str(payload.get("errormessage") or "")
        # The error table has no "not found" entry (it ranks refusals, not lookups): DIA's 404 says so here.
        return ProviderError(
            f"error {payload['errorcode']}: {message[:120]!r}",
            code=payload["errorcode"],
            text=message,
            unlisted=Outcome.NOT_FOUND if payload["errorcode"] == 404 else None,
        )
