"""The on-chain adapters (address, tx) on golden answers in the providers' real shapes: exact
normalized values, then each provider's rate limit, error inside HTTP 200, malformed and
implausible answers, and its way of saying "no such transaction"."""

import copy

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, RequestSpec
from tests.providers import onchain_payloads as p
from tests.providers.golden import adapter

ETH_ADDR = {"chain": "ethereum", "address": p.ETH}
ETH_TX = {"chain": "ethereum", "hash": p.ETH_TX}
BTC_ADDR = {"chain": "bitcoin", "address": p.BTC}
BTC_TX = {"chain": "bitcoin", "hash": p.BTC_TX}
TRON_ADDR = {"chain": "tron", "address": p.TRON}
TRON_TX = {"chain": "tron", "hash": p.TRON_TX}


def outcome_of(slug, capability, params, payload) -> Outcome:
    with pytest.raises(AdapterError) as raised:
        adapter(slug).parse(capability, params, payload)
    return raised.value.outcome


# --- requests --------------------------------------------------------------------------------------


def test_requests_use_the_real_paths():
    assert adapter("etherscan").build_request("address", {"chain": "base", "address": p.ETH}) == RequestSpec(
        "/v2/api", {"chainid": 8453, "module": "account", "action": "balance", "address": p.ETH, "tag": "latest"})
    assert adapter("etherscan").build_request("tx", ETH_TX).params["action"] == "eth_getTransactionReceipt"
    batch = adapter("publicnode_eth").build_request("tx", ETH_TX).json_body
    assert [c["method"] for c in batch] == ["eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_blockNumber"]
    assert adapter("blockchair").build_request("address", BTC_ADDR).path == f"/bitcoin/dashboards/address/{p.BTC}"
    assert adapter("blockchair").build_request("tx", ETH_TX).path == f"/ethereum/dashboards/transaction/{p.ETH_TX}"
    for slug in ("mempool_space", "blockstream"):
        assert adapter(slug).build_request("address", BTC_ADDR).path == f"/address/{p.BTC}"
        assert adapter(slug).build_request("tx", BTC_TX).path == f"/tx/{p.BTC_TX}"
    assert adapter("trongrid").build_request("address", TRON_ADDR) == RequestSpec(
        "/wallet/getaccount", method="POST", json_body={"address": p.TRON, "visible": True})


# --- golden answers ----------------------------------------------------------------------------------


def test_etherscan_balance_keeps_every_wei():
    data = adapter("etherscan").parse("address", ETH_ADDR, p.ETHERSCAN_BALANCE)
    assert (data["balance_raw"], data["balance"], data["symbol"]) == ("40891626854930000000000", 40891.62685493, "ETH")
    assert data["tx_count"] is None and data["recent_transactions"] is None


def test_etherscan_receipt_gives_status_block_and_fee():
    data = adapter("etherscan").parse("tx", ETH_TX, p.ETHERSCAN_RECEIPT)
    assert (data["status"], data["block"], data["fee_raw"]) == ("confirmed", 0x15A0B2C, str(21000 * 10**9))
    assert data["confirmations"] is None and data["timestamp"] is None


def test_publicnode_balance_and_tx_batch_in_any_order():
    assert adapter("publicnode_eth").parse("address", ETH_ADDR, p.RPC_BALANCE)["balance"] == 2.0
    data = adapter("publicnode_eth").parse("tx", ETH_TX, p.RPC_TX_BATCH)
    assert (data["status"], data["confirmations"], data["fee"]) == ("confirmed", 0x15A0B3F - 0x15A0B2C + 1, 2.1e-05)


def test_publicnode_a_known_transaction_without_receipt_is_pending():
    batch = copy.deepcopy(p.RPC_TX_BATCH)
    batch[2]["result"] = None
    data = adapter("publicnode_eth").parse("tx", ETH_TX, batch)
    assert (data["status"], data["block"], data["confirmations"], data["fee"]) == ("pending", None, 0, None)


def test_blockchair_bitcoin_address_and_failed_ethereum_tx():
    data = adapter("blockchair").parse("address", BTC_ADDR, p.BLOCKCHAIR_BTC_ADDRESS)
    assert (data["balance_raw"], data["balance"], data["tx_count"]) == ("1234567", 0.01234567, 4)
    assert data["recent_transactions"] == ["aa" * 32, "bb" * 32, "cc" * 32]
    tx = adapter("blockchair").parse("tx", ETH_TX, p.BLOCKCHAIR_ETH_TX)
    assert (tx["status"], tx["block"], tx["confirmations"], tx["fee_raw"], tx["timestamp"]) == (
        "failed", 22678316, 15, "21000000000000", "2025-06-10T11:57:35Z")


@pytest.mark.parametrize("slug", ["mempool_space", "blockstream"])
def test_esplora_balance_is_funded_minus_spent_and_status_reads_confirmed(slug):
    data = adapter(slug).parse("address", BTC_ADDR, p.ESPLORA_ADDRESS)
    assert (data["balance_raw"], data["tx_count"], data["symbol"]) == ("250000", 8, "BTC")
    tx = adapter(slug).parse("tx", BTC_TX, p.ESPLORA_TX)
    assert (tx["status"], tx["block"], tx["fee_raw"], tx["timestamp"]) == (
        "confirmed", 901200, "2820", "2025-06-10T10:06:40Z")
    assert adapter(slug).parse("tx", BTC_TX, p.ESPLORA_MEMPOOL_TX)["status"] == "pending"


def test_trongrid_balance_in_sun_and_tx_status():
    assert adapter("trongrid").parse("address", TRON_ADDR, p.TRON_ACCOUNT)["balance"] == 2.5
    tx = adapter("trongrid").parse("tx", TRON_TX, p.TRON_TX_INFO)
    assert (tx["status"], tx["fee"], tx["timestamp"]) == ("confirmed", 0.345, "2025-06-10T10:23:20Z")
    assert adapter("trongrid").parse("tx", TRON_TX, p.TRON_FAILED_INFO)["status"] == "failed"


@pytest.mark.parametrize(("slug", "params", "payload"), [
    ("etherscan", ETH_ADDR, {"status": "1", "message": "OK", "result": "0"}),
    ("publicnode_eth", ETH_ADDR, {"jsonrpc": "2.0", "id": 1, "result": "0x0"}),
    ("trongrid", TRON_ADDR, {}),
    ("blockstream", BTC_ADDR, {"address": p.BTC, "chain_stats": dict.fromkeys(
        ("funded_txo_count", "funded_txo_sum", "spent_txo_count", "spent_txo_sum", "tx_count"), 0),
        "mempool_stats": {"tx_count": 0}}),
])
def test_an_address_never_used_is_a_zero_balance(slug, params, payload):
    data = adapter(slug).parse("address", params, payload)
    assert (data["balance"], data["balance_raw"]) == (0, "0")


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "capability", "params", "payload", "outcome"), [
    ("etherscan", "address", ETH_ADDR, p.ETHERSCAN_RATE_LIMIT, Outcome.RATE_LIMITED),
    ("etherscan", "address", {"chain": "bsc", "address": p.ETH}, p.ETHERSCAN_FREE_CHAIN, Outcome.PERMANENT),
    ("etherscan", "tx", ETH_TX, p.ETHERSCAN_PROXY_ERROR, Outcome.PERMANENT),
    ("etherscan", "tx", ETH_TX, {"status": "0", "message": "NOTOK", "result": "Error! Something went wrong"},
     Outcome.BAD_DATA),
    ("publicnode_eth", "address", ETH_ADDR, p.RPC_LIMIT, Outcome.RATE_LIMITED),
    ("publicnode_eth", "tx", ETH_TX, [p.RPC_TX_BATCH[0], p.RPC_LIMIT, p.RPC_TX_BATCH[2]], Outcome.RATE_LIMITED),
    ("publicnode_eth", "tx", ETH_TX, p.RPC_LIMIT, Outcome.RATE_LIMITED),  # the whole batch refused
    ("blockchair", "tx", BTC_TX, p.BLOCKCHAIR_LIMIT, Outcome.RATE_LIMITED),
    ("trongrid", "address", TRON_ADDR, p.TRON_LIMIT, Outcome.RATE_LIMITED),
    ("trongrid", "tx", TRON_TX, {"Error": "class java.lang.NullPointerException : null"}, Outcome.BAD_DATA),
])
def test_errors_inside_http_200_are_errors(slug, capability, params, payload, outcome):
    assert outcome_of(slug, capability, params, payload) == outcome


def test_rate_limit_statuses():
    assert adapter("trongrid").classify_http_error(403, p.TRON_LIMIT) == Outcome.RATE_LIMITED
    assert adapter("blockchair").classify_http_error(430, p.BLOCKCHAIR_LIMIT) == Outcome.RATE_LIMITED
    assert adapter("blockstream").classify_http_error(429, None) == Outcome.RATE_LIMITED


@pytest.mark.parametrize(("slug", "capability", "params", "payload"), [
    ("etherscan", "tx", ETH_TX, p.ETHERSCAN_NO_RECEIPT),
    ("publicnode_eth", "tx", ETH_TX, [{**item, "result": None} if item["id"] in (1, 2) else item
                                      for item in p.RPC_TX_BATCH]),
    ("blockchair", "tx", BTC_TX, p.BLOCKCHAIR_EMPTY),
    ("trongrid", "tx", TRON_TX, {}),
])
def test_an_unknown_transaction_is_not_found_naming_the_hash(slug, capability, params, payload):
    with pytest.raises(NotFound) as raised:
        adapter(slug).parse(capability, params, payload)
    assert (raised.value.field, raised.value.values) == ("hash", [params["hash"]])
    assert not raised.value.outcome.counts_against_breaker


@pytest.mark.parametrize("slug", ["mempool_space", "blockstream"])
def test_esplora_404_text_is_not_found_but_an_html_404_is_not(slug):
    esplora = adapter(slug)
    text = esplora.decode(b"Transaction not found", "text/plain")
    assert esplora.classify_http_error(404, text) == Outcome.NOT_FOUND
    assert esplora.classify_http_error(400, esplora.decode(b"Invalid hex string", "text/plain")) == Outcome.PERMANENT
    with pytest.raises(BadData):
        esplora.decode(b"<html><h1>404 Not Found</h1></html>", "text/html")
    assert esplora.classify_http_error(404, None) == Outcome.PERMANENT


def _set(payload, path, value):
    payload = copy.deepcopy(payload)
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return payload


@pytest.mark.parametrize(("slug", "capability", "params", "payload"), [
    ("etherscan", "address", ETH_ADDR, {"status": "1", "message": "OK", "result": "-5"}),
    ("etherscan", "address", ETH_ADDR, {"status": "1", "message": "OK", "result": "12.5"}),
    ("etherscan", "tx", ETH_TX, _set(p.ETHERSCAN_RECEIPT, ("result", "status"), "0x2")),
    ("etherscan", "tx", ETH_TX, _set(p.ETHERSCAN_RECEIPT, ("result", "transactionHash"), "0x" + "00" * 32)),
    ("publicnode_eth", "address", ETH_ADDR, {"jsonrpc": "2.0", "id": 1, "result": "lots"}),
    ("publicnode_eth", "tx", ETH_TX, [_set(p.RPC_TX_BATCH[0], ("result",), "0x15a0b00"), *p.RPC_TX_BATCH[1:]]),
    ("publicnode_eth", "tx", ETH_TX, p.RPC_TX_BATCH[:2]),
    ("blockchair", "address", BTC_ADDR, _set(p.BLOCKCHAIR_BTC_ADDRESS, ("data", p.BTC, "address", "balance"), -1)),
    ("blockchair", "tx", ETH_TX, _set(p.BLOCKCHAIR_ETH_TX, ("context", "state"), 22678000)),
    ("blockchair", "tx", ETH_TX, _set(p.BLOCKCHAIR_ETH_TX, ("data", p.ETH_TX, "transaction", "time"),
                                      "2025-06-14 12:00:00")),
    ("blockchair", "tx", ETH_TX, {"data": "oops", "context": p.BLOCKCHAIR_CONTEXT}),
    ("mempool_space", "address", BTC_ADDR, _set(p.ESPLORA_ADDRESS, ("chain_stats", "spent_txo_sum"), 10**9)),
    ("mempool_space", "address", BTC_ADDR, _set(p.ESPLORA_ADDRESS, ("address",), "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")),
    ("blockstream", "tx", BTC_TX, _set(p.ESPLORA_TX, ("status", "block_time"), 10**12)),
    ("blockstream", "tx", BTC_TX, _set(p.ESPLORA_TX, ("fee",), -3)),
    ("blockstream", "tx", BTC_TX, "Transaction not found"),  # text with a 2xx is no Esplora answer
    ("blockstream", "tx", BTC_TX, [p.ESPLORA_TX]),
    ("trongrid", "address", TRON_ADDR, _set(p.TRON_ACCOUNT, ("balance",), -100)),
    ("trongrid", "tx", TRON_TX, _set(p.TRON_TX_INFO, ("blockNumber",), None)),
])
def test_implausible_or_malformed_answers_are_bad_data(slug, capability, params, payload):
    assert outcome_of(slug, capability, params, payload) == Outcome.BAD_DATA


@pytest.mark.parametrize("slug", ["etherscan", "publicnode_eth", "blockchair", "mempool_space", "blockstream",
                                  "trongrid"])
def test_a_truncated_body_is_bad_data(slug):
    with pytest.raises(BadData):
        adapter(slug).decode(b'{"status": "1", "res', "application/json")
