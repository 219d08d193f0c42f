"""The on-chain fallbacks' answers in their real shapes, from chain_accounts' one ledger: Tronscan
(/account, /transaction-info), Blockscout v2 (/addresses/{a}, /transactions/{h}) and Blockchain.com
(/rawaddr/{a}, /rawtx/{h}, /q/getblockcount). The extra public Ethereum nodes need nothing here:
every JSON-RPC POST is answered from the same ledger (chain_accounts.post_answer), except that
Cloudflare's gateway refuses a batch, as the adapter assumes it does.
"""

from __future__ import annotations

from typing import Any

from tests.fake_upstream import chain_accounts as ledger
from tests.fake_upstream.market import Answer, _q, iso_z

TRON_TX_COUNT = 1  # TRON_TX is the ledger address's one transaction
# The JSON-RPC nodes besides PublicNode: any POST with a body gets a JSON-RPC answer, whatever the slug.
RPC_NODES = ("publicnode_eth", "llamarpc_eth", "drpc_eth", "cloudflare_eth")
NO_BATCH_NODES = frozenset({"cloudflare_eth"})
RPC_LIMIT = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "rate limit exceeded"}}
RPC_INTERNAL = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "internal error"}}
RATE_LIMIT_BODY: dict[str, Any] = {
    **dict.fromkeys(RPC_NODES[1:], RPC_LIMIT),
    "tronscan": {"code": 403, "message": "request too quickly, please retry later."},
    "blockscout_eth": {"message": "Too Many Requests"},
    "blockchain_info": {"error": "too-many-requests", "message": "Too many requests, please retry later"},
}
ERROR_IN_200_BODY: dict[str, Any] = {
    **dict.fromkeys(RPC_NODES[1:], RPC_INTERNAL),
    "tronscan": {"Error": "class java.lang.NullPointerException : null"},
    "blockscout_eth": {"message": "Internal server error"},
    "blockchain_info": {"error": "internal-error", "message": "Something went wrong"},
}


# --- Tronscan ------------------------------------------------------------------------------------------


def tronscan(rest: str, query: dict, now: float) -> Answer:
    if rest == "/account":
        address = _q(query, "address")
        balance = ledger._balance("tron", address)
        # A never-activated address is a skeleton with a zero balance.
        return 200, {"address": address, "balance": balance, "activated": bool(balance),
                     "totalTransactionCount": TRON_TX_COUNT if balance else 0, "transactions_in": 0,
                     "transactions_out": TRON_TX_COUNT if balance else 0, "totalFrozen": 0, "withPriceTokens": [],
                     "date_created": 1_600_000_000_000 if balance else 0, "bandwidth": {"freeNetLimit": 600}}, {}
    if rest == "/transaction-info":
        tx_hash = _q(query, "hash").lower()
        tx = ledger._tx("tron", tx_hash)
        if tx is None:
            return 200, {}, {}
        block = ledger._block(tx)
        return 200, {"block": block, "hash": tx_hash, "timestamp": ledger._block_time(tx) * 1000,
                     "ownerAddress": ledger.TRON_ADDRESS, "toAddress": "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
                     "contractType": 1, "confirmed": True, "confirmations": ledger.tip("tron", now) - block + 1,
                     "revert": False, "contractRet": "SUCCESS", "riskTransaction": False,
                     "cost": {"net_fee": 100_000, "energy_fee": tx["fee"] - 100_000, "fee": tx["fee"],
                              "energy_usage_total": 13_045, "net_usage": 0},
                     "contractData": {"amount": 1_000_000, "owner_address": ledger.TRON_ADDRESS}}, {}
    if rest == "/system/status":
        return 200, {"network": {"type": "mainnet"}, "sync": {"progress": 100}}, {}
    return 200, {"message": "some parameters are invalid or out of range"}, {}


# --- Blockscout v2 ----------------------------------------------------------------------------------------


def _blockscout_tx(tx_hash: str, tx: dict[str, Any], now: float) -> dict[str, Any]:
    block = ledger._block(tx)
    common = {"hash": tx_hash, "from": {"hash": ledger.ETH_ADDRESS, "is_contract": False},
              "to": {"hash": "0x" + "11" * 20, "is_contract": False}, "value": "0", "type": 2,
              "gas_limit": "60000", "gas_price": str(tx["gas_price"]), "tx_types": ["coin_transfer"], "nonce": 7}
    if block is None:
        return {**common, "block_number": None, "confirmations": 0, "status": None, "result": "pending",
                "fee": {"type": "maximum", "value": str(60000 * tx["gas_price"])}, "timestamp": None}
    return {**common, "block_number": block, "confirmations": ledger.tip("ethereum", now) - block + 1,
            "status": "error" if tx["failed"] else "ok", "result": "Reverted" if tx["failed"] else "success",
            "fee": {"type": "actual", "value": str(ledger._fee(tx))}, "gas_used": str(tx["gas_used"]),
            "timestamp": iso_z(ledger._block_time(tx)).replace("Z", ".000000Z"), "confirmation_duration": [0, 12000]}


def blockscout_eth(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "addresses":
        balance = ledger._balance("ethereum", parts[1])
        # An address Blockscout has not indexed is a stub with a null balance (since late 2024).
        return 200, {"hash": parts[1], "coin_balance": str(balance) if balance else None, "exchange_rate": "2770.0",
                     "is_contract": False, "ens_domain_name": None, "has_tokens": False,
                     "block_number_balance_updated_at": ledger.tip("ethereum", now) - 3 if balance else None}, {}
    if len(parts) == 2 and parts[0] == "transactions":
        tx = ledger._tx("ethereum", parts[1])
        if tx is None:
            return 404, {"message": "Not found"}, {}
        return 200, _blockscout_tx(parts[1].lower(), tx, now), {}
    if rest == "/stats":
        return 200, {"total_blocks": str(ledger.tip("ethereum", now)), "average_block_time": 12000.0}, {}
    return 404, {"message": "Not found"}, {}


# --- Blockchain.com --------------------------------------------------------------------------------------


def _blockchain_info_tx(tx_hash: str, tx: dict[str, Any], now: float) -> dict[str, Any]:
    block = ledger._block(tx)
    # `time` is when Blockchain.com first saw it: a little before its block.
    seen = now - 60 if block is None else ledger._block_time(tx) - 45
    return {"hash": tx_hash, "ver": 2, "vin_sz": 1, "vout_sz": 2, "size": 222, "weight": 561, "fee": tx["fee"],
            "relayed_by": "0.0.0.0", "lock_time": 0, "tx_index": 7_123_456_789_012, "double_spend": False,
            "time": int(seen), "block_index": block, "block_height": block, "inputs": [], "out": []}


def blockchain_info(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    missing = 404, {"error": "not-found-or-invalid-arg", "message": "Item not found or argument invalid"}, {}
    if len(parts) == 2 and parts[0] == "rawaddr":
        balance = ledger._balance("bitcoin", parts[1])
        recent = ledger.RECENT.get(parts[1], []) if balance else []
        limit = int(_q(query, "limit", "50") or 50)
        return 200, {"hash160": "751e76e8199196d454941c45d1b3a323f1433bd6", "address": parts[1],
                     "n_tx": ledger.BTC_TX_COUNT if balance else 0, "n_unredeemed": 1 if balance else 0,
                     "total_received": ledger.BTC_FUNDED if balance else 0,
                     "total_sent": ledger.BTC_FUNDED - balance if balance else 0, "final_balance": balance,
                     "txs": [_blockchain_info_tx(h, ledger.TRANSACTIONS[h], now) for h in recent[:limit]]}, {}
    if len(parts) == 2 and parts[0] == "rawtx":
        tx = ledger._tx("bitcoin", parts[1])
        return missing if tx is None else (200, _blockchain_info_tx(parts[1].lower(), tx, now), {})
    if rest == "/q/getblockcount":
        return 200, str(ledger.tip("bitcoin", now)).encode(), {"content-type": "text/plain"}
    return missing


def post_answer(slug: str, rest: str, body: Any, now: float) -> Answer | None:
    if slug in NO_BATCH_NODES and isinstance(body, list):
        return 200, {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch requests are not "
                                                                                         "supported"}}, {}
    return ledger.post_answer(slug, rest, body, now)


PROVIDERS = {"tronscan": tronscan, "blockscout_eth": blockscout_eth, "blockchain_info": blockchain_info}
