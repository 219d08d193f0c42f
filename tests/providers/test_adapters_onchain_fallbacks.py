"""The on-chain fallbacks (Tronscan, Blockscout, Blockchain.com and the public Ethereum nodes that
subclass PublicNode) on golden answers in their real shapes (tests/payloads/<slug>/): their requests,
exact normalized values, then each one's rate limit, error inside HTTP 200, malformed and implausible
answers, and its way of saying "no such transaction"."""

import copy

import pytest

from providers.adapters.base import AdapterError, BadData, NotFound, Outcome, RequestSpec
from providers.adapters.publicnode_eth import PublicNodeEth
from tests.pools.catalogue_files import shipped
from tests.providers import onchain_payloads as p
from tests.providers.golden import adapter, load

ETH_ADDR = {"chain": "ethereum", "address": p.ETH}
ETH_TX = {"chain": "ethereum", "hash": p.ETH_TX}
BTC_ADDR = {"chain": "bitcoin", "address": p.BTC}
BTC_TX = {"chain": "bitcoin", "hash": p.BTC_TX}
TRON_ADDR = {"chain": "tron", "address": p.TRON}
TRON_TX = {"chain": "tron", "hash": p.TRON_TX}
NODES = ["llamarpc_eth", "drpc_eth", "cloudflare_eth"]
BATCHING_NODES = ["llamarpc_eth", "drpc_eth"]
OTHER_TRON = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7"


def outcome_of(slug, capability, params, payload) -> Outcome:
    with pytest.raises(AdapterError) as raised:
        adapter(slug).parse(capability, params, payload)
    return raised.value.outcome


def changed(payload, **fields):
    payload = copy.deepcopy(payload)
    payload.update(fields)
    return payload


# --- requests --------------------------------------------------------------------------------------


def test_tronscan_requests_are_gets_with_the_address_or_hash_as_query():
    assert adapter("tronscan").build_request("address", TRON_ADDR) == RequestSpec("/account", {"address": p.TRON})
    assert adapter("tronscan").build_request("tx", TRON_TX) == RequestSpec("/transaction-info", {"hash": p.TRON_TX})


def test_tronscan_key_is_the_catalogues_header_and_never_in_the_request():
    (entry,) = [e for e in shipped()["providers"] if e["slug"] == "tronscan"]
    assert (entry["auth_type"], entry["auth_param"], entry["api_key_env"], entry["key_required"]) == (
        "header", "TRON-PRO-API-KEY", "TRONSCAN_API_KEY", True)
    spec = adapter("tronscan").build_request("tx", TRON_TX)
    assert spec.headers == {} and set(spec.params) == {"hash"}  # the engine adds the key, never the adapter


def test_blockscout_and_blockchain_info_paths():
    assert adapter("blockscout_eth").build_request("address", ETH_ADDR) == RequestSpec(f"/addresses/{p.ETH}")
    assert adapter("blockscout_eth").build_request("tx", ETH_TX) == RequestSpec(f"/transactions/{p.ETH_TX}")
    assert adapter("blockchain_info").build_request("address", BTC_ADDR) == RequestSpec(f"/rawaddr/{p.BTC}",
                                                                                        {"limit": 10})
    assert adapter("blockchain_info").build_request("tx", BTC_TX) == RequestSpec(f"/rawtx/{p.BTC_TX}")


@pytest.mark.parametrize("slug", NODES)
def test_nodes_post_publicnodes_json_rpc_for_balance_and_gas(slug):
    node, publicnode = adapter(slug), adapter("publicnode_eth")
    assert isinstance(node, PublicNodeEth) and node.slug == slug
    for capability, params in (("address", ETH_ADDR), ("gas", {"chain": "ethereum"})):
        assert node.build_request(capability, params) == publicnode.build_request(capability, params)
    assert node.build_request("address", ETH_ADDR).json_body == {
        "jsonrpc": "2.0", "id": 1, "method": "eth_getBalance", "params": [p.ETH, "latest"]}


@pytest.mark.parametrize("slug", BATCHING_NODES)
def test_batching_nodes_send_the_three_call_tx_batch(slug):
    batch = adapter(slug).build_request("tx", ETH_TX)
    assert (batch.method, batch.path) == ("POST", "/")
    assert [(c["id"], c["method"], c["params"]) for c in batch.json_body] == [
        (1, "eth_getTransactionByHash", [p.ETH_TX]), (2, "eth_getTransactionReceipt", [p.ETH_TX]),
        (3, "eth_blockNumber", [])]


def test_cloudflare_sends_one_receipt_call_not_a_batch():
    assert adapter("cloudflare_eth").build_request("tx", ETH_TX) == RequestSpec("/", method="POST", json_body={
        "jsonrpc": "2.0", "id": 1, "method": "eth_getTransactionReceipt", "params": [p.ETH_TX]})


@pytest.mark.parametrize(("slug", "params"), [("tronscan", ETH_ADDR), ("blockscout_eth", BTC_ADDR),
                                              ("blockchain_info", TRON_ADDR), ("drpc_eth", BTC_ADDR)])
def test_a_chain_the_provider_does_not_serve_is_refused_before_any_call(slug, params):
    with pytest.raises(AdapterError) as raised:
        adapter(slug).build_request("address", params)
    assert raised.value.outcome == Outcome.PERMANENT
    assert params["chain"] not in adapter(slug).chains


# --- golden answers ----------------------------------------------------------------------------------


def test_tronscan_account_balance_in_sun_and_its_transaction_count():
    data = adapter("tronscan").parse("address", TRON_ADDR, load("tronscan", "account"))
    assert (data["balance"], data["balance_raw"], data["symbol"], data["tx_count"]) == (2.5, "2500000", "TRX", 42)
    assert data["recent_transactions"] is None


def test_tronscan_transaction_info_status_block_confirmations_fee_and_time():
    tx = adapter("tronscan").parse("tx", TRON_TX, load("tronscan", "transaction_info"))
    assert (tx["status"], tx["block"], tx["confirmations"], tx["fee"], tx["fee_raw"], tx["timestamp"]) == (
        "confirmed", 72340000, 1860, 0.345, "345000", "2025-06-10T10:23:20Z")
    reverted = changed(load("tronscan", "transaction_info"), contractRet="OUT_OF_ENERGY")
    assert adapter("tronscan").parse("tx", TRON_TX, reverted)["status"] == "failed"
    # Not yet solidified is still mined: confirmed, with Tronscan's own count.
    fresh = changed(load("tronscan", "transaction_info"), confirmed=False, confirmations=3)
    assert adapter("tronscan").parse("tx", TRON_TX, fresh)["status"] == "confirmed"


def test_blockscout_balance_and_a_mined_transaction():
    data = adapter("blockscout_eth").parse("address", ETH_ADDR, load("blockscout_eth", "address"))
    assert (data["balance_raw"], data["balance"], data["tx_count"]) == ("40891626854930000000000", 40891.62685493, None)
    tx = adapter("blockscout_eth").parse("tx", ETH_TX, load("blockscout_eth", "transaction"))
    assert (tx["status"], tx["block"], tx["confirmations"], tx["fee_raw"], tx["fee"], tx["timestamp"]) == (
        "confirmed", 22678316, 15, "21000000000000", 2.1e-05, "2025-06-10T11:57:35Z")
    failed = changed(load("blockscout_eth", "transaction"), status="error", result="Reverted")
    assert adapter("blockscout_eth").parse("tx", ETH_TX, failed)["status"] == "failed"


def test_blockscout_pending_has_no_block_and_no_maximum_fee_as_a_fee():
    tx = adapter("blockscout_eth").parse("tx", ETH_TX, load("blockscout_eth", "transaction_pending"))
    assert (tx["status"], tx["block"], tx["confirmations"], tx["fee_raw"], tx["timestamp"]) == (
        "pending", None, 0, None, None)


def test_blockscout_before_version_8_names_the_block_block():
    old = load("blockscout_eth", "transaction")
    old["block"] = old.pop("block_number")
    assert adapter("blockscout_eth").parse("tx", ETH_TX, old)["block"] == 22678316


def test_blockchain_info_address_gives_balance_count_and_recent_hashes_newest_first():
    data = adapter("blockchain_info").parse("address", BTC_ADDR, load("blockchain_info", "rawaddr"))
    assert (data["balance_raw"], data["balance"], data["tx_count"]) == ("1234567", 0.01234567, 4)
    assert data["recent_transactions"] == ["aa" * 32, "bb" * 32]


def test_blockchain_info_tx_leaves_confirmations_and_time_null():
    tx = adapter("blockchain_info").parse("tx", BTC_TX, load("blockchain_info", "rawtx"))
    assert (tx["status"], tx["block"], tx["fee_raw"], tx["confirmations"], tx["timestamp"]) == (
        "confirmed", 901200, "2820", None, None)
    pending = changed(load("blockchain_info", "rawtx"), block_height=None, block_index=None)
    assert adapter("blockchain_info").parse("tx", BTC_TX, pending)["status"] == "pending"


@pytest.mark.parametrize("slug", BATCHING_NODES)
def test_batching_nodes_read_the_batch_in_any_order(slug):
    tx = adapter(slug).parse("tx", ETH_TX, load("llamarpc_eth", "tx_batch"))
    assert (tx["status"], tx["block"], tx["confirmations"], tx["fee_raw"]) == (
        "confirmed", 0x15A0B2C, 0x15A0B3F - 0x15A0B2C + 1, str(21000 * 10**9))
    assert adapter(slug).parse("address", ETH_ADDR, load("llamarpc_eth", "balance"))["balance"] == 2.0


def test_drpc_gas_price_in_gwei():
    assert adapter("drpc_eth").parse("gas", {"chain": "ethereum"}, load("drpc_eth", "gas_price"))["standard"] == \
        0x1F0A5F40 / 10**9


def test_cloudflare_receipt_gives_status_block_and_fee_but_no_confirmations():
    tx = adapter("cloudflare_eth").parse("tx", ETH_TX, load("cloudflare_eth", "tx_receipt"))
    assert (tx["status"], tx["block"], tx["fee_raw"], tx["confirmations"], tx["timestamp"]) == (
        "confirmed", 0x15A0B2C, str(21000 * 10**9), None, None)


@pytest.mark.parametrize(("slug", "params", "payload"), [
    ("tronscan", TRON_ADDR, {"address": p.TRON, "balance": 0, "activated": False, "totalTransactionCount": 0}),
    ("tronscan", TRON_ADDR, {"address": p.TRON, "activated": False}),
    ("blockscout_eth", ETH_ADDR, {"hash": p.ETH, "coin_balance": None, "is_contract": False}),
    ("blockchain_info", BTC_ADDR, {"address": p.BTC, "n_tx": 0, "total_received": 0, "total_sent": 0,
                                   "final_balance": 0, "txs": []}),
    ("cloudflare_eth", ETH_ADDR, {"jsonrpc": "2.0", "id": 1, "result": "0x0"}),
])
def test_an_address_never_used_is_a_zero_balance(slug, params, payload):
    data = adapter(slug).parse("address", params, payload)
    assert (data["balance"], data["balance_raw"]) == (0, "0")


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("slug", "capability", "params", "payload", "outcome"), [
    ("tronscan", "address", TRON_ADDR, load("tronscan", "error_ratelimit"), Outcome.RATE_LIMITED),
    ("tronscan", "tx", TRON_TX, {"Error": "class java.lang.NullPointerException : null"}, Outcome.BAD_DATA),
    ("tronscan", "tx", TRON_TX, {"message": "some parameters are invalid or out of range"}, Outcome.PERMANENT),
    ("blockscout_eth", "tx", ETH_TX, {"message": "Internal server error"}, Outcome.BAD_DATA),
    ("blockscout_eth", "address", ETH_ADDR, {"message": "Too Many Requests"}, Outcome.RATE_LIMITED),
    ("blockchain_info", "address", BTC_ADDR, {"error": "too-many-requests", "message": "Rate limit exceeded"},
     Outcome.RATE_LIMITED),
    ("blockchain_info", "tx", BTC_TX, {"error": "internal-error", "message": "Something went wrong"},
     Outcome.BAD_DATA),
    ("llamarpc_eth", "tx", ETH_TX, p.RPC_LIMIT, Outcome.RATE_LIMITED),
    ("drpc_eth", "tx", ETH_TX, load("drpc_eth", "error_free_tier"), Outcome.PERMANENT),
    ("drpc_eth", "address", ETH_ADDR, {"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "x"}},
     Outcome.TRANSIENT),
    ("cloudflare_eth", "tx", ETH_TX, load("cloudflare_eth", "error_cannot_fulfill"), Outcome.PERMANENT),
    ("cloudflare_eth", "gas", {"chain": "ethereum"}, p.RPC_LIMIT, Outcome.RATE_LIMITED),
])
def test_errors_inside_http_200_are_errors(slug, capability, params, payload, outcome):
    assert outcome_of(slug, capability, params, payload) == outcome


@pytest.mark.parametrize(("slug", "status", "payload", "outcome"), [
    ("tronscan", 403, load("tronscan", "error_ratelimit"), Outcome.RATE_LIMITED),
    ("tronscan", 403, None, Outcome.RATE_LIMITED),  # nginx's bare 403 page when the IP is throttled
    ("tronscan", 401, {"Error": "ApiKey not exists"}, Outcome.PERMANENT),
    ("blockscout_eth", 429, None, Outcome.RATE_LIMITED),
    ("blockscout_eth", 422, {"message": "Invalid parameter(s)", "errors": [{"title": "Invalid value"}]},
     Outcome.PERMANENT),
    ("blockchain_info", 429, None, Outcome.RATE_LIMITED),
    ("drpc_eth", 429, p.RPC_LIMIT, Outcome.RATE_LIMITED),
])
def test_rate_limit_and_refusal_statuses(slug, status, payload, outcome):
    assert adapter(slug).classify_http_error(status, payload) == outcome


@pytest.mark.parametrize(("slug", "status", "payload"), [
    ("blockscout_eth", 404, load("blockscout_eth", "error_not_found")),
    ("blockchain_info", 404, load("blockchain_info", "error_not_found")),
    ("blockchain_info", 500, load("blockchain_info", "error_not_found")),  # the body, not the status, says it
])
def test_an_unknown_hash_status_with_its_not_found_body_is_not_found(slug, status, payload):
    outcome = adapter(slug).classify_http_error(status, payload)
    assert outcome == Outcome.NOT_FOUND and not outcome.counts_against_breaker
    assert adapter(slug).classify_http_error(404, None) == Outcome.PERMANENT  # an HTML 404 is no answer about it


@pytest.mark.parametrize(("slug", "params", "payload"), [
    ("tronscan", TRON_TX, {}),
    ("cloudflare_eth", ETH_TX, {"jsonrpc": "2.0", "id": 1, "result": None}),
    ("drpc_eth", ETH_TX, [dict(item, result=None) if item["id"] in (1, 2) else item
                          for item in load("llamarpc_eth", "tx_batch")]),
])
def test_an_unknown_transaction_answered_with_200_is_not_found_naming_the_hash(slug, params, payload):
    with pytest.raises(NotFound) as raised:
        adapter(slug).parse("tx", params, payload)
    assert (raised.value.field, raised.value.values) == ("hash", [params["hash"]])


@pytest.mark.parametrize(("slug", "capability", "params", "payload"), [
    ("tronscan", "address", TRON_ADDR, changed(load("tronscan", "account"), balance=-100)),
    ("tronscan", "address", TRON_ADDR, changed(load("tronscan", "account"), address=OTHER_TRON)),
    ("tronscan", "tx", TRON_TX, changed(load("tronscan", "transaction_info"), block=None)),
    ("tronscan", "tx", TRON_TX, changed(load("tronscan", "transaction_info"), timestamp=4_102_444_800_000 * 10)),
    ("tronscan", "tx", TRON_TX, changed(load("tronscan", "transaction_info"), confirmations=-2)),
    ("tronscan", "tx", TRON_TX, changed(load("tronscan", "transaction_info"), hash="00" * 32)),
    ("tronscan", "tx", TRON_TX, changed(load("tronscan", "transaction_info"), contractRet=None)),
    ("blockscout_eth", "address", ETH_ADDR, changed(load("blockscout_eth", "address"), coin_balance="-1")),
    ("blockscout_eth", "address", ETH_ADDR, changed(load("blockscout_eth", "address"), coin_balance="1.5e3")),
    ("blockscout_eth", "address", ETH_ADDR, changed(load("blockscout_eth", "address"), hash="0x" + "22" * 20)),
    ("blockscout_eth", "tx", ETH_TX, changed(load("blockscout_eth", "transaction"), status="maybe")),
    ("blockscout_eth", "tx", ETH_TX, changed(load("blockscout_eth", "transaction"), block_number=None)),
    ("blockscout_eth", "tx", ETH_TX, changed(load("blockscout_eth", "transaction"), confirmations=0)),
    ("blockscout_eth", "tx", ETH_TX, changed(load("blockscout_eth", "transaction"), timestamp="next tuesday")),
    ("blockscout_eth", "tx", ETH_TX, changed(load("blockscout_eth", "transaction"), timestamp="2101-01-01T00:00:00Z")),
    ("blockchain_info", "address", BTC_ADDR, changed(load("blockchain_info", "rawaddr"), final_balance=-5)),
    ("blockchain_info", "address", BTC_ADDR, changed(load("blockchain_info", "rawaddr"), n_tx=1)),  # 2 txs listed
    ("blockchain_info", "address", BTC_ADDR, changed(load("blockchain_info", "rawaddr"), txs={"aa": 1})),
    ("blockchain_info", "address", BTC_ADDR, changed(load("blockchain_info", "rawaddr"), final_balance=None)),
    ("blockchain_info", "tx", BTC_TX, changed(load("blockchain_info", "rawtx"), fee=-1)),
    ("blockchain_info", "tx", BTC_TX, changed(load("blockchain_info", "rawtx"), hash="00" * 32)),
    ("cloudflare_eth", "tx", ETH_TX, {"jsonrpc": "2.0", "id": 1, "result": dict(
        load("cloudflare_eth", "tx_receipt")["result"], status="0x2")}),
    ("cloudflare_eth", "tx", ETH_TX, load("llamarpc_eth", "tx_batch")),  # a batch answer to a single call
    ("llamarpc_eth", "tx", ETH_TX, load("llamarpc_eth", "tx_batch")[:2]),
    ("llamarpc_eth", "tx", ETH_TX, [dict(item, result="0x15a0b00") if item["id"] == 3 else item
                                    for item in load("llamarpc_eth", "tx_batch")]),  # head below the block
])
def test_implausible_or_malformed_answers_are_bad_data(slug, capability, params, payload):
    assert outcome_of(slug, capability, params, payload) == Outcome.BAD_DATA


@pytest.mark.parametrize("slug", ["tronscan", "blockscout_eth", "blockchain_info", *NODES])
def test_a_truncated_body_is_bad_data(slug):
    with pytest.raises(BadData):
        adapter(slug).decode(b'{"hash": "4a4a', "application/json")


# --- the one receipt reader --------------------------------------------------------------------------


def test_etherscan_and_every_node_read_the_same_receipt_the_same_way():
    receipt = dict(load("cloudflare_eth", "tx_receipt")["result"], status="0x0", l1Fee="0x3e8")
    via_etherscan = adapter("etherscan").parse("tx", ETH_TX, {"jsonrpc": "2.0", "id": 1, "result": receipt})
    via_cloudflare = adapter("cloudflare_eth").parse("tx", ETH_TX, {"jsonrpc": "2.0", "id": 1, "result": receipt})
    batch = [dict(item, result=receipt) if item["id"] == 2 else item for item in load("llamarpc_eth", "tx_batch")]
    via_publicnode = adapter("publicnode_eth").parse("tx", ETH_TX, batch)
    # Rollups add the L1 data fee (l1Fee) to gasUsed x effectiveGasPrice.
    expected = ("failed", 0x15A0B2C, str(21000 * 10**9 + 1000))
    for data in (via_etherscan, via_cloudflare, via_publicnode):
        assert (data["status"], data["block"], data["fee_raw"]) == expected
