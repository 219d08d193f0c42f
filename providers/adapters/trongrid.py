"""TronGrid (api.trongrid.io, the Tron full node HTTP API; key optional in TRON-PRO-API-KEY):
TRX balances from POST /wallet/getaccount and transaction status from POST
/wallet/gettransactioninfobyid, one call each.

Amounts are sun (1 TRX = 10^6 sun) as integers. The node answers `{}` for an account never
activated (a valid zero balance) and for a transaction it does not know, or not yet in a block
(gettransactioninfobyid only knows mined ones): that is NotFound. A mined transaction that
failed says so in `result: "FAILED"` or a receipt result other than SUCCESS. No chain tip comes
back, so `confirmations` stays null. Keyless callers are throttled with HTTP 403 and a 30 s block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, ProviderError, RequestSpec
from providers.onchain_records import make_address_balance, make_tx_status, raw_amount, require_chain

ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
MS_PER_S = 1000


class TronGrid(Adapter):
    slug = "trongrid"
    capabilities = ONCHAIN_CAPABILITIES
    chains = frozenset({"tron"})
    # Keyless throttling is a 403 with a short block (developers.tron.network rate limits).
    status_outcomes = {403: Outcome.RATE_LIMITED}
    error_markers = {
        **dict.fromkeys(("frequency limit", "rate limit", "suspended"), Outcome.RATE_LIMITED),
        **dict.fromkeys(("invalid address", "badItem", "illegal"), Outcome.PERMANENT),
    }

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().build_request(capability, params)
        require_chain(self.slug, self.chains, params)
        if capability == "address":
            # visible=true: addresses in base58 (T...) both ways, not hex.
            return RequestSpec(path="/wallet/getaccount", method="POST",
                               json_body={"address": params["address"], "visible": True})
        return RequestSpec(path="/wallet/gettransactioninfobyid", method="POST", json_body={"value": params["hash"]})

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().parse(capability, params, payload)
        require_chain(self.slug, self.chains, params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        if capability == "address":
            if payload and payload.get("address") != params["address"]:
                raise BadData(f"{self.slug}: answer for another address")
            # An activated account with no TRX omits balance, like one never activated ({}).
            return make_address_balance(slug=self.slug, chain="tron", address=params["address"],
                                        balance_raw=payload.get("balance", 0)).to_dict()
        if not payload:
            raise NotFound(f"{self.slug}: no mined transaction {params['hash']}", field="hash",
                           values=[params["hash"]])
        if str(payload.get("id", "")).lower() != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        receipt = payload.get("receipt") if isinstance(payload.get("receipt"), Mapping) else {}
        failed = payload.get("result") == "FAILED" or receipt.get("result") not in (None, "SUCCESS")
        stamp_ms = raw_amount(payload.get("blockTimeStamp"), "blockTimeStamp", slug=self.slug)
        return make_tx_status(
            slug=self.slug, chain="tron", tx_hash=params["hash"], status="failed" if failed else "confirmed",
            block=payload.get("blockNumber"), fee_raw=payload.get("fee", 0),
            block_epoch_s=None if stamp_ms is None else stamp_ms / MS_PER_S,
        ).to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        # The node's errors: {"Error": "class org.tron...Exception : ..."} (HTTP 200 or 4xx/5xx).
        error = payload.get("Error") if isinstance(payload, Mapping) else None
        if not error:
            return None
        return ProviderError(f"Error {str(error)[:120]!r}", text=str(error))
