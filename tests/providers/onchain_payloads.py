"""Golden answers of the on-chain providers, in their real shapes (trimmed to the fields that matter
plus a few that do not, as the services send them)."""

ETH = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"
BTC = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
ETH_TX = "0x" + "5c" * 32
BTC_TX = "4a" * 32
TRON_TX = "9f" * 32

ETHERSCAN_BALANCE = {"status": "1", "message": "OK", "result": "40891626854930000000000"}
ETHERSCAN_RECEIPT = {"jsonrpc": "2.0", "id": 1, "result": {
    "blockHash": "0x" + "11" * 32, "blockNumber": "0x15a0b2c", "contractAddress": None,
    "cumulativeGasUsed": "0x1d7a3c", "effectiveGasPrice": "0x3b9aca00", "from": ETH.lower(), "gasUsed": "0x5208",
    "logs": [], "logsBloom": "0x" + "00" * 256, "status": "0x1", "to": "0x" + "22" * 20,
    "transactionHash": ETH_TX, "transactionIndex": "0x3", "type": "0x2"}}
ETHERSCAN_NO_RECEIPT = {"jsonrpc": "2.0", "id": 1, "result": None}
ETHERSCAN_RATE_LIMIT = {"status": "0", "message": "NOTOK", "result": "Max calls per sec rate limit reached (3/sec)"}
ETHERSCAN_FREE_CHAIN = {"status": "0", "message": "NOTOK", "result": (
    "Free API access is not supported for this chain. Please upgrade your api plan for full chain coverage.")}
ETHERSCAN_PROXY_ERROR = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32602, "message": (
    "invalid argument 0: json: cannot unmarshal hex string of odd length into Go value of type common.Hash")}}

RPC_BALANCE = {"jsonrpc": "2.0", "id": 1, "result": "0x1bc16d674ec80000"}  # 2 ETH
RPC_TX_BATCH = [
    {"jsonrpc": "2.0", "id": 3, "result": "0x15a0b3f"},  # batches may answer in any order
    {"jsonrpc": "2.0", "id": 1, "result": {"hash": ETH_TX, "blockNumber": "0x15a0b2c", "from": ETH.lower(),
                                            "gas": "0x5208", "nonce": "0x7", "value": "0x0", "input": "0x"}},
    {"jsonrpc": "2.0", "id": 2, "result": ETHERSCAN_RECEIPT["result"]},
]
RPC_LIMIT = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32005, "message": "rate limit exceeded"}}

BLOCKCHAIR_CONTEXT = {"code": 200, "source": "D", "results": 1, "state": 901240, "market_price_usd": 109600,
                      "cache": {"live": True, "duration": 20, "since": "2025-06-10 12:00:00",
                                "until": "2025-06-10 12:00:20", "time": None}, "request_cost": 1}
BLOCKCHAIR_BTC_ADDRESS = {"data": {BTC: {
    "address": {"type": "witness_v0_keyhash", "script_hex": "0014751e76e8199196d454941c45d1b3a323f1433bd6",
                "balance": 1234567, "balance_usd": 1353.09, "received": 3234567, "spent": 2000000,
                "output_count": 3, "unspent_output_count": 1, "transaction_count": 4,
                "first_seen_receiving": "2017-08-24 13:44:26", "last_seen_receiving": "2025-06-01 09:12:00"},
    "transactions": ["aa" * 32, "bb" * 32, "cc" * 32], "utxo": []}}, "context": BLOCKCHAIR_CONTEXT}
BLOCKCHAIR_ETH_TX = {"data": {ETH_TX: {"transaction": {
    "block_id": 22678316, "id": 2876543210, "index": 3, "hash": ETH_TX, "date": "2025-06-10",
    "time": "2025-06-10 11:57:35", "failed": True, "type": "call", "sender": ETH.lower(), "recipient": "0x" + "22" * 20,
    "value": "0", "fee": "21000000000000", "gas_used": 21000, "gas_limit": 21000, "gas_price": 1000000000},
    "calls": []}}, "context": {**BLOCKCHAIR_CONTEXT, "state": 22678330}}
BLOCKCHAIR_EMPTY = {"data": [], "context": {**BLOCKCHAIR_CONTEXT, "results": 0}}
BLOCKCHAIR_LIMIT = {"data": None, "context": {"code": 430, "error": "You've been blacklisted for abusing the API",
                                               "state": None, "cache": None, "request_cost": 1}}

ESPLORA_ADDRESS = {"address": BTC, "chain_stats": {"funded_txo_count": 5, "funded_txo_sum": 900000,
                                                    "spent_txo_count": 3, "spent_txo_sum": 650000, "tx_count": 7},
                   "mempool_stats": {"funded_txo_count": 1, "funded_txo_sum": 10000, "spent_txo_count": 0,
                                     "spent_txo_sum": 0, "tx_count": 1}}
ESPLORA_TX = {"txid": BTC_TX, "version": 2, "locktime": 0, "vin": [], "vout": [], "size": 223, "weight": 562,
              "sigops": 1, "fee": 2820, "status": {"confirmed": True, "block_height": 901200,
                                                   "block_hash": "00" * 32, "block_time": 1749550000}}
ESPLORA_MEMPOOL_TX = {**ESPLORA_TX, "status": {"confirmed": False}}

TRON_ACCOUNT = {"address": TRON, "balance": 2500000, "create_time": 1575849357000,
                "latest_opration_time": 1749550000000, "free_net_usage": 268, "account_resource": {}}
TRON_TX_INFO = {"id": TRON_TX, "fee": 345000, "blockNumber": 72340000, "blockTimeStamp": 1749551000000,
                "contractResult": [""], "receipt": {"net_usage": 345}}
TRON_FAILED_INFO = {**TRON_TX_INFO, "result": "FAILED", "resMessage": "4f7574206f6620656e65726779",
                    "receipt": {"energy_usage_total": 64285, "result": "OUT_OF_ENERGY"}}
TRON_LIMIT = {"Error": "The key exceeds the frequency limit(15), and the query server is suspended for 30s"}
