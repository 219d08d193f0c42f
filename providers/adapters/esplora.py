"""The Esplora REST API that mempool.space and Blockstream both run, for the on-chain capabilities:
`address` from /address/{a} (chain_stats and mempool_stats) and `tx` from /tx/{h} (with `status`).

One request per answer: /address/{a} has the balance but no transaction list (that is
/address/{a}/txs, a second call), and /tx/{h} has the block but not the chain tip, so these
answers leave `recent_transactions` and `confirmations` null. Esplora answers an unknown
transaction with HTTP 404 and a plain-text "Transaction not found": that is the caller's
NotFound, never the provider's fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, Outcome, ProviderError, RequestSpec
from providers.onchain_records import make_address_balance, make_tx_status, raw_amount

ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
# Esplora's plain-text errors (its Rust server's wording); an HTML page is a proxy's, not Esplora's.
NOT_FOUND_TEXTS = ("transaction not found", "address not found")


class EsploraAccounts(Adapter):
    """Mixin of an Esplora provider: address and tx on Bitcoin (subclasses set slug)."""

    body_overrides_status = frozenset({Outcome.RATE_LIMITED, Outcome.NOT_FOUND})

    def build_onchain_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability == "address":
            return RequestSpec(path=f"/address/{params['address']}")
        return RequestSpec(path=f"/tx/{params['hash']}")

    def parse_onchain(self, capability: str, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        # Esplora's text errors come with 4xx statuses; a 2xx that is not an object is bad data.
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected an object")
        if capability == "address":
            return self._address(params, payload)
        return self._tx(params, payload)

    def _address(self, params: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload.get("address") != params["address"]:
            raise BadData(f"{self.slug}: answer for another address")
        chain, mempool = payload.get("chain_stats"), payload.get("mempool_stats") or {}
        if not isinstance(chain, Mapping) or not isinstance(mempool, Mapping):
            raise BadData(f"{self.slug}: no chain_stats")
        # The confirmed balance: what arrived minus what left, in satoshi.
        funded = raw_amount(chain.get("funded_txo_sum"), "funded_txo_sum", slug=self.slug)
        spent = raw_amount(chain.get("spent_txo_sum"), "spent_txo_sum", slug=self.slug)
        if funded is None or spent is None:
            raise BadData(f"{self.slug}: chain_stats without funded/spent sums")
        count = (raw_amount(chain.get("tx_count"), "tx_count", slug=self.slug) or 0) + \
                (raw_amount(mempool.get("tx_count"), "tx_count", slug=self.slug) or 0)
        return make_address_balance(slug=self.slug, chain="bitcoin", address=params["address"],
                                    balance_raw=funded - spent, tx_count=count).to_dict()

    def _tx(self, params: Mapping[str, Any], payload: Mapping[str, Any]) -> dict[str, Any]:
        if payload.get("txid") != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        status = payload.get("status")
        if not isinstance(status, Mapping) or not isinstance(status.get("confirmed"), bool):
            raise BadData(f"{self.slug}: no status.confirmed")
        confirmed = status["confirmed"]
        block_time = raw_amount(status.get("block_time"), "block_time", slug=self.slug) if confirmed else None
        return make_tx_status(
            slug=self.slug, chain="bitcoin", tx_hash=params["hash"], status="confirmed" if confirmed else "pending",
            block=status.get("block_height") if confirmed else None, fee_raw=payload.get("fee"),
            block_epoch_s=block_time,
        ).to_dict()

    def decode(self, body: bytes, content_type: str = "") -> Any:
        # Esplora's own errors are short plain text ("Transaction not found"): kept as text so
        # body_error can read them; anything else undecodable stays bad data.
        if content_type.startswith("text/plain"):
            return body.decode("utf-8", "replace").strip()
        return super().decode(body, content_type)

    def body_error(self, payload: Any) -> ProviderError | None:
        if isinstance(payload, str) and not payload.startswith("<"):
            # Matched here rather than through error_markers: their precedence has no "not found".
            missing = payload.lower().rstrip(".") in NOT_FOUND_TEXTS
            return ProviderError(f"{payload[:120]!r}", text=payload,
                                 unlisted=Outcome.NOT_FOUND if missing else Outcome.PERMANENT)
        return None
