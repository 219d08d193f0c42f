"""LlamaNodes' public Ethereum JSON-RPC (eth.llamarpc.com, keyless): exactly PublicNode's calls
(eth_getBalance, the eth_getTransactionByHash + receipt + eth_blockNumber batch, eth_gasPrice).

Assumed, not read (the reference facts list only the URL, evidence U): the endpoint accepts small
batches and reports throttling in a JSON-RPC error or an HTTP 429, which PublicNode's error table
already reads. `timestamp` stays null, as for PublicNode (the block's time is a second call).
"""

from __future__ import annotations

from providers.adapters.publicnode_eth import PublicNodeEth


class LlamaRpcEth(PublicNodeEth):
    slug = "llamarpc_eth"
