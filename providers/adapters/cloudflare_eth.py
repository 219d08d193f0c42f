"""Cloudflare's Ethereum gateway (cloudflare-eth.com, keyless): the same JSON-RPC as PublicNode for
`address` (eth_getBalance) and `gas` (eth_gasPrice), but `tx` as one eth_getTransactionReceipt.

What is assumed (the reference facts only list the URL and eth_blockNumber, evidence U): the
gateway is a cache in front of a few nodes that does not answer every method and handles batches
poorly, so no batch is sent. A receipt alone gives the outcome, block and fee but not the chain tip
(`confirmations` stays null) nor the block's time (`timestamp` null), and it cannot tell a pending
transaction from an unknown one: no receipt is NotFound, as for Etherscan. A method the gateway
does not serve answers -32601 or -32046 "Cannot fulfill request": a refusal, not a fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.adapters.base import NotFound, Outcome
from providers.adapters.evm_rpc import call, read_receipt
from providers.adapters.publicnode_eth import REQUEST_ID, PublicNodeEth
from providers.onchain_records import make_tx_status


class CloudflareEth(PublicNodeEth):
    slug = "cloudflare_eth"
    error_codes = {**PublicNodeEth.error_codes, -32046: Outcome.PERMANENT}

    def tx_body(self, tx_hash: str) -> Any:
        return call(REQUEST_ID, "eth_getTransactionReceipt", tx_hash)

    def parse_tx(self, params: Mapping[str, Any], payload: Any) -> dict[str, Any]:
        receipt = self._single(payload)
        if receipt is None:
            raise NotFound(f"{self.slug}: no receipt for {params['hash']}", field="hash", values=[params["hash"]])
        mined = read_receipt(receipt, params["hash"], slug=self.slug)
        return make_tx_status(slug=self.slug, chain="ethereum", tx_hash=params["hash"], status=mined.status,
                              block=mined.block, fee_raw=mined.fee_raw).to_dict()
