"""Blockchain.com's explorer API (blockchain.info, keyless): Bitcoin `address` from
/rawaddr/{a}?limit=N and `tx` from /rawtx/{h}, one call each.

/rawaddr has `final_balance` (satoshi), `n_tx` and the newest transactions first in `txs`, so the
balance, the count and the recent hashes all come back; an address never used is all zeros.
/rawtx has the block height (null while in the mempool), the fee in satoshi and `time`, but that
is when Blockchain.com first saw the transaction, not the block's time, so `timestamp` stays null.
Confirmations need the chain tip, which is another call (/q/getblockcount): the adapter makes one
request per answer, as the Esplora ones do, so `confirmations` stays null (0 while pending). An
unknown hash is {"error": "not-found-or-invalid-arg", "message": "Item not found or argument
invalid"} with a 4xx/5xx status; the argument was checked before the call, so it is NotFound.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.onchain_records import RECENT_TX_LIMIT, make_address_balance, make_tx_status, require_chain

ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
NOT_FOUND_ERROR = "not-found-or-invalid-arg"


class BlockchainInfo(Adapter):
    slug = "blockchain_info"
    capabilities = ONCHAIN_CAPABILITIES
    chains = frozenset({"bitcoin"})
    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})
    error_markers = dict.fromkeys(("maximum concurrent requests", "too many", "rate limit"), Outcome.RATE_LIMITED)

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().build_request(capability, params)
        require_chain(self.slug, self.chains, params)
        if capability == "address":
            return RequestSpec(path=f"/rawaddr/{params['address']}", params={"limit": RECENT_TX_LIMIT})
        return RequestSpec(path=f"/rawtx/{params['hash']}")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in ONCHAIN_CAPABILITIES:
            return super().parse(capability, params, payload)
        require_chain(self.slug, self.chains, params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        self.raise_for_body_error(payload)
        if capability == "address":
            return self._address(params, payload)
        if str(payload.get("hash", "")).lower() != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        height = payload.get("block_height")
        return make_tx_status(slug=self.slug, chain="bitcoin", tx_hash=params["hash"],
                              status="pending" if height is None else "confirmed", block=height,
                              fee_raw=payload.get("fee")).to_dict()

    def _address(self, params: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        # bech32 addresses come back as sent (lower case), base58 ones exactly.
        if str(payload.get("address", "")) != params["address"]:
            raise BadData(f"{self.slug}: answer for another address")
        txs = payload.get("txs", [])
        if not isinstance(txs, list) or not all(isinstance(t, Mapping) and t.get("hash") for t in txs):
            raise BadData(f"{self.slug}: txs is not a list of transactions")
        return make_address_balance(slug=self.slug, chain="bitcoin", address=params["address"],
                                    balance_raw=payload.get("final_balance"), tx_count=payload.get("n_tx"),
                                    recent_transactions=[t["hash"] for t in txs]).to_dict()

    def classify_http_error(self, status: int, payload: Any) -> Outcome:
        # Blockchain.com sends its not-found body under a 500 as often as under a 404: the body
        # names the case, where elsewhere a "not found" only refines a plain 4xx.
        if isinstance(payload, Mapping) and payload.get("error") == NOT_FOUND_ERROR:
            return Outcome.NOT_FOUND
        return super().classify_http_error(status, payload)

    def body_error(self, payload: Any) -> ProviderError | None:
        if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
            message = str(payload.get("message") or payload["error"])
            missing = payload["error"] == NOT_FOUND_ERROR
            return ProviderError(f"{payload['error']}: {message[:120]!r}", code=payload["error"], text=message,
                                 unlisted=Outcome.NOT_FOUND if missing else None)
        return None
