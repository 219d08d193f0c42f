"""On-chain accounts and transactions in the real providers' shapes: Etherscan V2 (account balance,
proxy eth_getTransactionReceipt), JSON-RPC nodes (eth_getBalance and the tx batch), Blockchair
dashboards, Esplora (mempool.space, Blockstream) and TronGrid.

Every answer comes from the one ledger below, so the same address has the same balance and the
same transaction the same block and fee at every provider; chain tips move with the fake clock
(tests.fake_upstream.onchain). An address missing from the ledger was never used: zero, in each
provider's own way of saying so. A hash missing from it is unknown, again in each provider's way.
"""

from __future__ import annotations

from typing import Any

from tests.fake_upstream import onchain
from tests.fake_upstream.market import Answer, generic_answer, jsonrpc_answer

ETH_ADDRESS = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
ETH_TX, ETH_FAILED_TX, ETH_PENDING_TX = "0x" + "a1" * 32, "0x" + "f0" * 32, "0x" + "b2" * 32
BTC_TX, BTC_PENDING_TX, TRON_TX = "c3" * 32, "d4" * 32, "e5" * 32
# (chain, address) -> balance in the smallest unit; wei beyond a float's 53 bits on purpose.
BALANCES = {("ethereum", ETH_ADDRESS.lower()): 1234567890123456789012, ("base", ETH_ADDRESS.lower()): 5 * 10**17,
            ("bitcoin", BTC_ADDRESS): 125_000_000, ("tron", TRON_ADDRESS): 98_765_432_100}
BTC_FUNDED, BTC_TX_COUNT = 150_000_000, 3
# hash -> chain, block below the snapshot tip (None: in the mempool), fee in the smallest unit, failed.
TRANSACTIONS: dict[str, dict[str, Any]] = {
    ETH_TX: {"chain": "ethereum", "depth": 100, "gas_used": 21000, "gas_price": 1_500_000_000, "failed": False},
    ETH_FAILED_TX: {"chain": "ethereum", "depth": 250, "gas_used": 48211, "gas_price": 2_000_000_000, "failed": True},
    ETH_PENDING_TX: {"chain": "ethereum", "depth": None, "gas_used": None, "gas_price": 1_800_000_000, "failed": False},
    BTC_TX: {"chain": "bitcoin", "depth": 5, "fee": 1410, "failed": False},
    BTC_PENDING_TX: {"chain": "bitcoin", "depth": None, "fee": 705, "failed": False},
    TRON_TX: {"chain": "tron", "depth": 40, "fee": 1_100_000, "failed": False},
}
RECENT = {ETH_ADDRESS.lower(): [ETH_TX, ETH_FAILED_TX], BTC_ADDRESS: [BTC_PENDING_TX, BTC_TX]}
TRON_BLOCK_AT_SNAPSHOT, TRON_BLOCK_S = 72_345_678, 3
SNAPSHOT_TIP = {"ethereum": (onchain.ETH_BLOCK_AT_SNAPSHOT, onchain.ETH_BLOCK_S),
                "bitcoin": (onchain.BTC_BLOCK_AT_SNAPSHOT, onchain.BTC_BLOCK_S),
                "tron": (TRON_BLOCK_AT_SNAPSHOT, TRON_BLOCK_S)}
CHAIN_IDS = {"1": "ethereum", "10": "optimism", "56": "bsc", "137": "polygon", "8453": "base", "42161": "arbitrum"}
RATE_LIMIT_BODY = {"trongrid": {"Error": "The key exceeds the frequency limit(15), and the query server is "
                                         "suspended for 30s"}}
ERROR_IN_200_BODY = {"trongrid": {"Error": "class java.lang.NullPointerException : null"}}


def tip(chain: str, now: float) -> int:
    height, seconds = SNAPSHOT_TIP[chain]
    return height + int(now - onchain.SNAPSHOT_EPOCH) // seconds


def _block(tx: dict[str, Any]) -> int | None:
    # Fixed heights (the snapshot tip minus depth): only confirmations grow as the clock runs.
    return None if tx["depth"] is None else SNAPSHOT_TIP[tx["chain"]][0] - tx["depth"]


def _block_time(tx: dict[str, Any]) -> int:
    return onchain.SNAPSHOT_EPOCH - tx["depth"] * SNAPSHOT_TIP[tx["chain"]][1]


def _fee(tx: dict[str, Any]) -> int:
    return tx["fee"] if "fee" in tx else (tx["gas_used"] or 0) * tx["gas_price"]


def _balance(chain: str, address: str) -> int:
    return BALANCES.get((chain, address if chain in ("bitcoin", "tron") else address.lower()), 0)


def _tx(chain: str, tx_hash: str) -> dict[str, Any] | None:
    tx = TRANSACTIONS.get(tx_hash.lower())
    return tx if tx is not None and tx["chain"] == chain else None


# --- Etherscan V2 ---------------------------------------------------------------------------------


def _receipt(tx_hash: str, tx: dict[str, Any]) -> dict[str, Any]:
    return {"blockHash": "0x" + "9e" * 32, "blockNumber": hex(_block(tx)), "contractAddress": None,
            "cumulativeGasUsed": hex(tx["gas_used"] * 7), "effectiveGasPrice": hex(tx["gas_price"]),
            "from": ETH_ADDRESS.lower(), "gasUsed": hex(tx["gas_used"]), "logs": [], "logsBloom": "0x" + "00" * 256,
            "status": "0x0" if tx["failed"] else "0x1", "to": "0x" + "11" * 20, "transactionHash": tx_hash,
            "transactionIndex": "0x2a", "type": "0x2"}


def etherscan(rest: str, query: dict, now: float) -> Answer:
    q = {k: v[-1] for k, v in query.items()}
    chain = CHAIN_IDS.get(q.get("chainid", ""))
    if rest != "/v2/api" or (q.get("module"), q.get("action")) not in (("account", "balance"),
                                                                        ("proxy", "eth_getTransactionReceipt")):
        return onchain.etherscan(rest, query, now)
    if chain is None:
        return 200, {"status": "0", "message": "NOTOK", "result": "Missing or unsupported chainid"}, {}
    if q["module"] == "account":
        return 200, {"status": "1", "message": "OK", "result": str(_balance(chain, q.get("address", "")))}, {}
    tx = _tx(chain, q.get("txhash", ""))
    mined = tx is not None and tx["depth"] is not None
    return 200, {"jsonrpc": "2.0", "id": 1, "result": _receipt(q["txhash"].lower(), tx) if mined else None}, {}


# --- JSON-RPC nodes (PublicNode) --------------------------------------------------------------------


def _rpc_result(method: str, args: list[Any], now: float) -> Any:
    if method == "eth_getBalance":
        return hex(_balance("ethereum", str(args[0])))
    if method == "eth_blockNumber":
        return hex(tip("ethereum", now))
    tx = _tx("ethereum", str(args[0]))
    if tx is None:
        return None
    if method == "eth_getTransactionReceipt":
        return None if tx["depth"] is None else _receipt(str(args[0]).lower(), tx)
    block = _block(tx)
    return {"hash": str(args[0]).lower(), "blockNumber": None if block is None else hex(block),
            "blockHash": None if block is None else "0x" + "9e" * 32, "from": ETH_ADDRESS.lower(),
            "to": "0x" + "11" * 20, "gas": hex(60000), "gasPrice": hex(tx["gas_price"]), "nonce": "0x7",
            "value": "0x0", "input": "0x", "type": "0x2", "transactionIndex": None if block is None else "0x2a"}


RPC_METHODS = frozenset({"eth_getBalance", "eth_getTransactionByHash", "eth_getTransactionReceipt"})


def _rpc(request: Any, slug: str, now: float) -> Any:
    if not isinstance(request, dict) or request.get("method") not in RPC_METHODS | {"eth_blockNumber"}:
        return jsonrpc_answer(request, slug)
    return {"jsonrpc": "2.0", "id": request.get("id", 1),
            "result": _rpc_result(request["method"], list(request.get("params") or []), now)}


# --- Blockchair dashboards ------------------------------------------------------------------------------


def _blockchair_dashboard(chain: str, kind: str, key: str, now: float) -> Answer:
    state = tip(chain, now)
    context = {**onchain._blockchair_context(200, now, state, None), "results": 1, "limit": "100,100", "offset": "0,0"}
    if kind == "address":
        balance, recent = _balance(chain, key), RECENT.get(key if chain == "bitcoin" else key.lower(), [])
        if chain == "bitcoin":
            entry = {"address": {"type": "witness_v0_keyhash" if balance else None, "script_hex": "0014751e76e8",
                                 "balance": balance, "balance_usd": balance / 1e8 * 109600,
                                 "received": BTC_FUNDED if balance else 0,
                                 "spent": BTC_FUNDED - balance if balance else 0,
                                 "transaction_count": BTC_TX_COUNT if balance else 0},
                     "transactions": recent, "utxo": []}
        else:
            entry = {"address": {"type": "account" if balance else None, "contract_code_hex": None,
                                 "balance": str(balance), "balance_usd": balance / 1e18 * 2770,
                                 "call_count": len(recent), "transaction_count": len(recent)},
                     "calls": [{"block_id": _block(TRANSACTIONS[h]), "transaction_hash": h, "index": "0",
                                "time": onchain._blockchair_time(_block_time(TRANSACTIONS[h])),
                                "sender": key.lower(), "recipient": "0x" + "11" * 20, "value": 0,
                                "value_usd": 0, "transferred": True} for h in recent]}
        return 200, {"data": {key.lower() if chain == "ethereum" else key: entry}, "context": context}, {}
    tx = _tx(chain, key)
    if tx is None:
        return 200, {"data": [], "context": {**context, "results": 0}}, {}
    pending = tx["depth"] is None
    transaction = {"block_id": -1 if pending else _block(tx), "hash": key.lower(), "fee": _fee(tx),
                   "time": onchain._blockchair_time(now - 60 if pending else _block_time(tx))}
    if chain == "ethereum":
        transaction.update({"failed": tx["failed"], "fee": str(_fee(tx)), "gas_used": tx["gas_used"] or 0,
                            "gas_price": tx["gas_price"], "type": "call"})
    else:
        transaction.update({"is_coinbase": False, "input_count": 1, "output_count": 2, "size": 222, "weight": 561})
    return 200, {"data": {key.lower(): {"transaction": transaction, "inputs": [], "outputs": []}},
                 "context": context}, {}


def blockchair(rest: str, query: dict, now: float) -> Answer:
    parts = rest.strip("/").split("/")
    if len(parts) == 4 and parts[0] in ("bitcoin", "ethereum") and parts[1] == "dashboards" \
            and parts[2] in ("address", "transaction"):
        return _blockchair_dashboard(parts[0], parts[2], parts[3], now)
    return onchain.blockchair(rest, query, now)


# --- Esplora (mempool.space, Blockstream) ------------------------------------------------------------


def _esplora(rest: str, now: float) -> Answer | None:
    parts = rest.strip("/").split("/")
    text = {"content-type": "text/plain"}
    if len(parts) == 2 and parts[0] == "address":
        balance = _balance("bitcoin", parts[1])
        used = balance > 0
        funded = BTC_FUNDED if used else 0
        return 200, {"address": parts[1], "chain_stats": {
            "funded_txo_count": 2 if used else 0, "funded_txo_sum": funded, "spent_txo_count": 1 if used else 0,
            "spent_txo_sum": funded - balance, "tx_count": BTC_TX_COUNT - 1 if used else 0},
            "mempool_stats": {"funded_txo_count": 0, "funded_txo_sum": 0, "spent_txo_count": 0, "spent_txo_sum": 0,
                              "tx_count": 1 if used else 0}}, {}
    if len(parts) == 2 and parts[0] == "tx":
        tx = _tx("bitcoin", parts[1])
        if tx is None:
            return 404, b"Transaction not found", text
        status = {"confirmed": False} if tx["depth"] is None else {
            "confirmed": True, "block_height": _block(tx), "block_hash": "00" * 32, "block_time": _block_time(tx)}
        return 200, {"txid": parts[1].lower(), "version": 2, "locktime": 0, "vin": [], "vout": [], "size": 222,
                     "weight": 561, "sigops": 1, "fee": tx["fee"], "status": status}, {}
    if rest == "/blocks/tip/height":
        return 200, str(tip("bitcoin", now)).encode(), text
    return None


def mempool_space(rest: str, query: dict, now: float) -> Answer:
    return _esplora(rest, now) or onchain.mempool_space(rest, query, now)


def blockstream(rest: str, query: dict, now: float) -> Answer:
    return _esplora(rest, now) or generic_answer("blockstream", rest)


# --- TronGrid ---------------------------------------------------------------------------------------------


def _trongrid_post(rest: str, body: Any, now: float) -> Answer:
    if rest == "/wallet/getaccount":
        address = str(body.get("address", ""))
        balance = _balance("tron", address)
        # An account never activated is {}; an activated one omits balance when it is zero.
        return 200, ({"address": address, "balance": balance, "create_time": 1_600_000_000_000,
                      "latest_opration_time": 1_749_000_000_000, "free_net_usage": 120} if balance else {}), {}
    if rest == "/wallet/gettransactioninfobyid":
        tx = _tx("tron", str(body.get("value", "")))
        if tx is None:
            return 200, {}, {}
        return 200, {"id": str(body["value"]).lower(), "fee": tx["fee"], "blockNumber": _block(tx),
                     "blockTimeStamp": _block_time(tx) * 1000, "contractResult": [""],
                     "receipt": {"net_fee": 100_000, "energy_usage_total": 13_045, "result": "SUCCESS"}}, {}
    if rest == "/wallet/getnowblock":
        return 200, {"blockID": "00" * 32, "block_header": {"raw_data": {
            "number": tip("tron", now), "timestamp": int(now * 1000)}}}, {}
    return 200, {"Error": f"no such wallet API {rest}"}, {}


def post_answer(slug: str, rest: str, body: Any, now: float) -> Answer | None:
    """The answer to a POST with a JSON body, or None for the fake's default JSON-RPC answer."""
    if slug == "trongrid":
        return _trongrid_post(rest, body if isinstance(body, dict) else {}, now)
    items = body if isinstance(body, list) else [body]
    if not any(isinstance(item, dict) and item.get("method") in RPC_METHODS for item in items):
        return None
    answers = [_rpc(item, slug, now) for item in items]
    return 200, answers if isinstance(body, list) else answers[0], {}


PROVIDERS = {"etherscan": etherscan, "blockchair": blockchair, "mempool_space": mempool_space,
             "blockstream": blockstream,
             "trongrid": lambda rest, query, now: generic_answer("trongrid", rest)}
