"""Blockscout for Ethereum (eth.blockscout.com/api/v2, keyless): `address` from /addresses/{a}
(coin_balance in wei as a decimal string) and `tx` from /transactions/{h}, one call each.

The address answer has the balance but neither the transaction count nor the list (those are
/addresses/{a}/counters and /addresses/{a}/transactions, further calls), so `tx_count` and
`recent_transactions` stay null. Since late 2024 Blockscout answers an address it has never seen
with a stub whose coin_balance is null: a zero balance. A transaction answer has everything:
`status` "ok" or "error" (null while pending, with `result` "pending"), the block
(`block_number`; `block` before Blockscout 8), `confirmations`, `fee` ({"type": "actual"} once
mined, "maximum" while pending) and the block's `timestamp` (ISO, UTC). An unknown hash is HTTP 404
{"message": "Not found"}; throttling (5 req/s per IP without a key) is HTTP 429.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.onchain_records import make_address_balance, make_tx_status, require_chain
from providers.values import epoch_of, iso_from_string

ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
TX_OUTCOMES = {"ok": "confirmed", "error": "failed", None: "pending"}


class BlockscoutEth(Adapter):
    slug = "blockscout_eth"
    capabilities = ONCHAIN_CAPABILITIES
    chains = frozenset({"ethereum"})
    # A "Not found" body names the missing thing (a 404 says so for the caller, not the provider).
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})
    error_markers = {
        **dict.fromkeys(("too many requests", "rate limit"), Outcome.RATE_LIMITED),
        **dict.fromkeys(("invalid parameter", "invalid hash", "unauthorized"), Outcome.PERMANENT),
    }

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().build_request(capability, params)
        require_chain(self.slug, self.chains, params)
        if capability == "address":
            return RequestSpec(path=f"/addresses/{params['address']}")
        return RequestSpec(path=f"/transactions/{params['hash']}")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().parse(capability, params, payload)
        require_chain(self.slug, self.chains, params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        if capability == "address":
            # Blockscout spells the address EIP-55, as the request does (both are normalized).
            if str(payload.get("hash", "")).lower() != params["address"].lower():
                raise BadData(f"{self.slug}: answer for another address")
            balance = payload.get("coin_balance")
            return make_address_balance(slug=self.slug, chain="ethereum", address=params["address"],
                                        balance_raw="0" if balance is None else balance).to_dict()
        return self._tx(params, payload)

    def _tx(self, params: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        if str(payload.get("hash", "")).lower() != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        if payload.get("status") not in TX_OUTCOMES:
            raise BadData(f"{self.slug}: transaction status {payload.get('status')!r}")
        status = TX_OUTCOMES[payload.get("status")]
        fee = payload.get("fee") if isinstance(payload.get("fee"), Mapping) else {}
        if status == "pending":
            # A pending answer's fee is the maximum it may cost, its timestamp the time it was seen.
            return make_tx_status(slug=self.slug, chain="ethereum", tx_hash=params["hash"], status="pending").to_dict()
        block = payload.get("block_number", payload.get("block"))
        return make_tx_status(
            slug=self.slug, chain="ethereum", tx_hash=params["hash"], status=status, block=block,
            confirmations=payload.get("confirmations"),
            fee_raw=fee.get("value") if fee.get("type") == "actual" else None,
            block_epoch_s=epoch_of(iso_from_string(payload.get("timestamp"), slug=self.slug)),
        ).to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        # Errors are {"message": "..."} alone (plus "errors" on a 422); data answers have a hash.
        if not isinstance(payload, Mapping) or "hash" in payload or not isinstance(payload.get("message"), str):
            return None
        message = payload["message"]
        missing = message.strip().lower().rstrip(".") == "not found"
        return ProviderError(f"{message[:120]!r}", text=message, unlisted=Outcome.NOT_FOUND if missing else None)
