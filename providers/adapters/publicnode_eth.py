"""PublicNode Ethereum JSON-RPC (keyless): POST eth_gasPrice, the node's suggested price in wei.

JSON-RPC reports errors in an `error` object with HTTP 200. Only one level comes back, so the
estimate has `standard` and no slow/fast ladder.

Accounts and transactions: eth_getBalance for `address`; for `tx` one JSON-RPC batch of
eth_getTransactionByHash + eth_getTransactionReceipt + eth_blockNumber (one HTTP call), which
tells pending from mined and gives confirmations. No block time comes back (that would be a
second, dependent call), so `timestamp` stays null.

The other public nodes speak the same JSON-RPC and subclass this adapter (cloudflare_eth,
llamarpc_eth, drpc_eth); the shared pieces are in providers.adapters.evm_rpc.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, PermanentError, ProviderError, RequestSpec
from providers.adapters.evm_rpc import call, hex_quantity, read_receipt
from providers.onchain_records import make_address_balance, make_tx_status, raw_amount
from providers.schemas import make_gas

REQUEST_ID = 1
ONCHAIN_CAPABILITIES = frozenset({"address", "tx"})
# The ids of the tx batch: answers of a batch may come back in any order.
TX_ID, RECEIPT_ID, HEAD_ID = 1, 2, 3
WEI_PER_GWEI = 10**9


class PublicNodeEth(Adapter):
    slug = "publicnode_eth"
    capabilities = frozenset({"gas"}) | ONCHAIN_CAPABILITIES
    chains = frozenset({"ethereum"})
    # -32005 is the de-facto "limit exceeded" code; -32601 method not found; -32603 internal error.
    error_codes = {
        **dict.fromkeys((-32005, 429), Outcome.RATE_LIMITED),
        **dict.fromkeys((-32601, -32602, -32600), Outcome.PERMANENT),
        **dict.fromkeys((-32603, -32000), Outcome.TRANSIENT),
    }
    error_markers = dict.fromkeys(("rate limit", "too many"), Outcome.RATE_LIMITED)

    def _check_chain(self, params: Mapping[str, Any]) -> None:
        if params.get("chain", "ethereum") not in self.chains:
            raise PermanentError(f"{self.slug}: serves Ethereum only, not {params.get('chain')!r}")

    def build_request(self, capability: str, params: Mapping[str, Any]) -> RequestSpec:
        if capability not in ONCHAIN_CAPABILITIES | {"gas"}:
            return super().build_request(capability, params)
        self._check_chain(params)
        if capability == "address":
            body: Any = call(REQUEST_ID, "eth_getBalance", params["address"], "latest")
        elif capability == "tx":
            body = self.tx_body(params["hash"])
        else:
            body = call(REQUEST_ID, "eth_gasPrice")
        return RequestSpec(path="/", method="POST", json_body=body)

    def tx_body(self, tx_hash: str) -> Any:
        """The JSON-RPC body of a `tx` request (a node that batches poorly sends less)."""
        return [call(TX_ID, "eth_getTransactionByHash", tx_hash),
                call(RECEIPT_ID, "eth_getTransactionReceipt", tx_hash), call(HEAD_ID, "eth_blockNumber")]

    def _results(self, payload: Any) -> dict[Any, Any]:
        """The results of a batch answer by request id (a JSON-RPC error anywhere raises)."""
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(item, Mapping) for item in payload):
            raise BadData(f"{self.slug}: expected a JSON-RPC batch answer")
        results = {item.get("id"): item.get("result") for item in payload}
        if set(results) != {TX_ID, RECEIPT_ID, HEAD_ID}:
            raise BadData(f"{self.slug}: batch answer ids {sorted(map(str, results))}")
        return results

    def parse_tx(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        results = self._results(payload)
        tx, receipt = results[TX_ID], results[RECEIPT_ID]
        if tx is None:
            raise NotFound(f"{self.slug}: no transaction {params['hash']}", field="hash", values=[params["hash"]])
        if not isinstance(tx, Mapping) or str(tx.get("hash", "")).lower() != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        head = raw_amount(results[HEAD_ID], "eth_blockNumber", slug=self.slug)
        if receipt is None:  # known to the node but not mined yet
            return make_tx_status(slug=self.slug, chain="ethereum", tx_hash=params["hash"], status="pending").to_dict()
        mined = read_receipt(receipt, params["hash"], slug=self.slug)
        return make_tx_status(
            slug=self.slug, chain="ethereum", tx_hash=params["hash"], status=mined.status, block=mined.block,
            # The mined block counts as the first confirmation; a head below it comes out negative: bad data.
            confirmations=None if head is None or mined.block is None else head - mined.block + 1,
            fee_raw=mined.fee_raw,
        ).to_dict()

    def _single(self, payload: Any) -> Any:
        """The result of a single JSON-RPC call's answer (its error raises)."""
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a JSON-RPC response object")
        self.raise_for_body_error(payload)
        if payload.get("id") != REQUEST_ID:
            raise BadData(f"{self.slug}: answer to another request (id {payload.get('id')!r})")
        return payload.get("result")

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability not in ONCHAIN_CAPABILITIES | {"gas"}:
            return super().parse(capability, params, payload)
        self._check_chain(params)
        if capability == "tx":
            return self.parse_tx(params, payload)
        result = self._single(payload)
        if capability == "address":
            # A node answers "0x0" for an address never used: a valid zero balance.
            return make_address_balance(slug=self.slug, chain="ethereum", address=params["address"],
                                        balance_raw=hex_quantity(result, self.slug)).to_dict()
        wei = hex_quantity(result, self.slug)
        return make_gas(slug=self.slug, chain="ethereum", unit="gwei", standard=wei / WEI_PER_GWEI).to_dict()

    def body_error(self, payload: Any) -> ProviderError | None:
        if isinstance(payload, list):  # a batch: its first error speaks for it
            return next(filter(None, (self.body_error(item) for item in payload)), None)
        error = payload.get("error") if isinstance(payload, Mapping) else None
        if not isinstance(error, Mapping):
            return None
        return ProviderError(
            f"JSON-RPC error {error.get('code')}: {str(error.get('message'))[:120]!r}",
            code=error.get("code"),
            text=str(error.get("message", "")),
        )
