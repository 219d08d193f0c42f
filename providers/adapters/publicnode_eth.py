"""PublicNode Ethereum JSON-RPC (keyless): POST eth_gasPrice, the node's suggested price in wei.

JSON-RPC reports errors in an `error` object with HTTP 200. Only one level comes back, so the
estimate has `standard` and no slow/fast ladder.

Accounts and transactions: eth_getBalance for `address`; for `tx` one JSON-RPC batch of
eth_getTransactionByHash + eth_getTransactionReceipt + eth_blockNumber (one HTTP call), which
tells pending from mined and gives confirmations. No block time comes back (that would be a
second, dependent call), so `timestamp` stays null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import Adapter, BadData, NotFound, Outcome, PermanentError, ProviderError, RequestSpec
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
        if capability == "address":
            self._check_chain(params)
            return RequestSpec(path="/", method="POST", json_body=_call(REQUEST_ID, "eth_getBalance",
                                                                       params["address"], "latest"))
        if capability == "tx":
            self._check_chain(params)
            return RequestSpec(path="/", method="POST", json_body=[
                _call(TX_ID, "eth_getTransactionByHash", params["hash"]),
                _call(RECEIPT_ID, "eth_getTransactionReceipt", params["hash"]), _call(HEAD_ID, "eth_blockNumber")])
        if capability != "gas":
            return super().build_request(capability, params)
        self._check_chain(params)
        return RequestSpec(
            path="/",
            method="POST",
            json_body={"jsonrpc": "2.0", "id": REQUEST_ID, "method": "eth_gasPrice", "params": []},
        )

    def _results(self, payload: Any) -> dict[Any, Any]:
        """The results of a batch answer by request id (a JSON-RPC error anywhere raises)."""
        self.raise_for_body_error(payload)
        if not isinstance(payload, list) or not all(isinstance(item, Mapping) for item in payload):
            raise BadData(f"{self.slug}: expected a JSON-RPC batch answer")
        results = {item.get("id"): item.get("result") for item in payload}
        if set(results) != {TX_ID, RECEIPT_ID, HEAD_ID}:
            raise BadData(f"{self.slug}: batch answer ids {sorted(map(str, results))}")
        return results

    def _parse_tx(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        results = self._results(payload)
        tx, receipt = results[TX_ID], results[RECEIPT_ID]
        if tx is None:
            raise NotFound(f"{self.slug}: no transaction {params['hash']}", field="hash", values=[params["hash"]])
        if not isinstance(tx, Mapping) or str(tx.get("hash", "")).lower() != params["hash"]:
            raise BadData(f"{self.slug}: answer for another transaction")
        head = raw_amount(results[HEAD_ID], "eth_blockNumber", slug=self.slug)
        if receipt is None:  # known to the node but not mined yet
            return make_tx_status(slug=self.slug, chain="ethereum", tx_hash=params["hash"], status="pending").to_dict()
        if not isinstance(receipt, Mapping):
            raise BadData(f"{self.slug}: receipt is not an object")
        outcome = {"0x1": "confirmed", "0x0": "failed"}.get(receipt.get("status"))
        if outcome is None:
            raise BadData(f"{self.slug}: receipt status {receipt.get('status')!r}")
        block = raw_amount(receipt.get("blockNumber"), "blockNumber", slug=self.slug)
        gas_used = raw_amount(receipt.get("gasUsed"), "gasUsed", slug=self.slug)
        price = raw_amount(receipt.get("effectiveGasPrice"), "effectiveGasPrice", slug=self.slug)
        return make_tx_status(
            slug=self.slug, chain="ethereum", tx_hash=params["hash"], status=outcome, block=block,
            # The mined block counts as the first confirmation; a head below it comes out negative: bad data.
            confirmations=None if head is None or block is None else head - block + 1,
            fee_raw=None if gas_used is None or price is None else gas_used * price,
        ).to_dict()

    def parse(self, capability: str, params: Mapping[str, Any], payload: Any) -> Any:
        if capability in ONCHAIN_CAPABILITIES:
            self._check_chain(params)
            if capability == "tx":
                return self._parse_tx(params, payload)
            if not isinstance(payload, Mapping):
                raise BadData(f"{self.slug}: expected a JSON-RPC response object")
            self.raise_for_body_error(payload)
            if payload.get("id") != REQUEST_ID:
                raise BadData(f"{self.slug}: answer to another request (id {payload.get('id')!r})")
            # A node answers "0x0" for an address never used: a valid zero balance.
            return make_address_balance(slug=self.slug, chain="ethereum", address=params["address"],
                                        balance_raw=_hex_quantity(payload.get("result"), self.slug)).to_dict()
        if capability != "gas":
            return super().parse(capability, params, payload)
        self._check_chain(params)
        if not isinstance(payload, Mapping):
            raise BadData(f"{self.slug}: expected a JSON-RPC response object")
        self.raise_for_body_error(payload)
        if payload.get("id") != REQUEST_ID:
            raise BadData(f"{self.slug}: answer to another request (id {payload.get('id')!r})")
        result = payload.get("result")
        if not isinstance(result, str) or not result.startswith("0x"):
            raise BadData(f"{self.slug}: result is not a hex quantity")
        try:
            wei = int(result, 16)
        except ValueError as exc:
            raise BadData(f"{self.slug}: result {result[:20]!r} is not hex") from exc
        estimate = make_gas(slug=self.slug, chain="ethereum", unit="gwei", standard=wei / WEI_PER_GWEI)
        return estimate.to_dict()

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


def _call(request_id: int, method: str, *args: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(args)}


def _hex_quantity(value: Any, slug: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BadData(f"{slug}: result is not a hex quantity")
    return raw_amount(value, "result", slug=slug)
