"""Tronscan (apilist.tronscanapi.com/api; its key in the TRON-PRO-API-KEY header, which the engine
adds from the catalogue's TRONSCAN_API_KEY and without which the provider is skipped): TRX balances
from GET /account?address= and transaction status from GET /transaction-info?hash=, one call each.

Amounts are sun (1 TRX = 10^6 sun) as integers. /account has the balance and
`totalTransactionCount` but not the transactions themselves (that is /transaction?address=, a second
call), so `recent_transactions` stays null. An address never activated has a zero (or no) balance:
a zero. /transaction-info answers an unknown hash with `{}` (NotFound). A transaction is
in a block as soon as Tronscan lists it; `confirmed` false only means not yet solidified, so the
status comes from `contractRet` (SUCCESS, else failed) and `confirmations` is Tronscan's own count.
The fee is `cost.fee`, all the TRX burnt, in sun. Throttling is a 403 `{"code": 403, "message":
"request too quickly, please retry later."}` or nginx's bare 403 page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, ProviderError, RequestSpec
from providers.onchain_records import make_address_balance, make_tx_status, raw_amount, require_chain

ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
MS_PER_S = 1000


class Tronscan(Adapter):
    slug = "tronscan"
    capabilities = ONCHAIN_CAPABILITIES
    chains = frozenset({"tron"})
    status_outcomes = {403: Outcome.RATE_LIMITED}
    error_codes = {403: Outcome.RATE_LIMITED, 429: Outcome.RATE_LIMITED, 401: Outcome.PERMANENT}
    error_markers = {
        **dict.fromkeys(("too quickly", "rate limit", "frequency limit"), Outcome.RATE_LIMITED),
        **dict.fromkeys(("api key", "apikey", "invalid", "out of range"), Outcome.PERMANENT),
    }

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().build_request(capability, params)
        require_chain(self.slug, self.chains, params)
        if capability == "address":
            return RequestSpec(path="/account", params={"address": params["address"]})
        return RequestSpec(path="/transaction-info", params={"hash": params["hash"]})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().parse(capability, params, payload)
        require_chain(self.slug, self.chains, params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        if capability == "address":
            if payload.get("address") not in (None, params["address"]):
                raise BadData(f"{self.slug}: answer for another address")
            return make_address_balance(slug=self.slug, chain="tron", address=params["address"],
                                        balance_raw=payload.get("balance", 0),
                                        tx_count=payload.get("totalTransactionCount")).to_dict()
        return self._tx(params, payload)

    def _tx(self, params: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        if not payload:
            raise NotFound(f"{self.slug}: no transaction {params['hash']}", field="hash", values=[params["hash"]])
        if str(payload.get("hash", "")).lower() != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        if not isinstance(payload.get("contractRet"), str):
            raise BadData(f"{self.slug}: no contractRet")
        failed = payload["contractRet"] != "SUCCESS" or payload.get("revert") is True
        cost = payload.get("cost") if isinstance(payload.get("cost"), Mapping) else {}
        stamp_ms = raw_amount(payload.get("timestamp"), "timestamp", slug=self.slug)
        return make_tx_status(
            slug=self.slug, chain="tron", tx_hash=params["hash"], status="failed" if failed else "confirmed",
            block=payload.get("block"), confirmations=payload.get("confirmations"), fee_raw=cost.get("fee"),
            block_epoch_s=None if stamp_ms is None else stamp_ms / MS_PER_S,
        ).to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        # {"Error": "..."} (the node's wording) or {"code": 403, "message": "..."}; data answers have neither.
        if not isinstance(payload, Mapping):
            return None
        if payload.get("Error"):
            return ProviderError(f"Error {str(payload['Error'])[:120]!r}", text=str(payload["Error"]))
        if "message" in payload and ("code" in payload or len(payload) == 1):
            message = str(payload["message"])
            return ProviderError(f"code {payload.get('code')!r}: {message[:120]!r}", code=payload.get("code"),
                                 text=message)
        return None
