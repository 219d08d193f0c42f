"""dRPC's public Ethereum endpoint (eth.drpc.org, keyless): exactly PublicNode's calls
(eth_getBalance, the eth_getTransactionByHash + receipt + eth_blockNumber batch, eth_gasPrice).

Assumed, not read (the reference facts list only the URL, evidence U): the keyless tier caps the
size of a batch (ours has three calls, under the cap) and says so in a JSON-RPC error naming the
free tier; that refusal will not change on a retry, so it is permanent, not a fault of the node.
`timestamp` stays null, as for PublicNode.
"""

from __future__ import annotations

from providers.adapters.base import Outcome
from providers.adapters.publicnode_eth import PublicNodeEth


class DrpcEth(PublicNodeEth):
    slug = "drpc_eth"
    error_markers = {**PublicNodeEth.error_markers, "free tier": Outcome.PERMANENT}
