"""The on-chain fallbacks end to end: the data plane in process, the engine, real Redis and real
sockets to the fake upstream (tests/fake_upstream/chain_explorers.py), pools in the shipped
catalogue's order. Tron falls back from TronGrid to Tronscan (sent with its key, skipped without),
Ethereum through Blockscout and each public node, Bitcoin to Blockchain.com, Ethereum gas through
the nodes' eth_gasPrice."""

import json
from pathlib import Path

import pytest

from tests.fake_upstream import chain_accounts as ledger
from tests.fixtures.dataplane import clear_cache, pools_over_fake

CATALOGUE = Path(__file__).resolve().parents[3] / "fixtures" / "providers.json"
RPC_NODES = {"publicnode_eth", "llamarpc_eth", "drpc_eth", "cloudflare_eth"}
TRON_KEY = "tronscan-test-key-0001"
TRON_ADDRESS = f"/api/data/address?chain=tron&address={ledger.TRON_ADDRESS}"
TRON_TX = f"/api/data/tx?chain=tron&hash={ledger.TRON_TX}"


def shipped_pools(*capabilities: str) -> dict[str, list[str]]:
    shipped = json.loads(CATALOGUE.read_text())
    return {p["capability"]: [m["provider"] for m in sorted(p["members"], key=lambda m: -m["priority"])]
            for p in shipped["pools"] if p["capability"] in capabilities}


@pytest.fixture
def onchain_pools(transactional_db, fake_upstream):
    return pools_over_fake(fake_upstream, shipped_pools("address", "tx", "gas"), category=lambda slug: "explorer",
                           allow_post=RPC_NODES | {"trongrid"})


@pytest.fixture
def keyed_tronscan(onchain_pools):
    """Tronscan as the catalogue ships it: its key required, sent in the TRON-PRO-API-KEY header."""
    tronscan = onchain_pools["tronscan"]
    tronscan.auth_type, tronscan.auth_param = "header", "TRON-PRO-API-KEY"
    tronscan.api_key_env, tronscan.key_required = "TRONSCAN_API_KEY", True
    tronscan.save()
    return tronscan


def attempts(body: dict) -> list[tuple[str, str]]:
    return [(a["provider"], a["outcome"]) for a in body["meta"]["attempts"]]


async def test_tronscan_answers_when_trongrid_fails_and_gets_its_key_in_the_header(
        keyed_tronscan, fake_upstream, engine_client, redis_client, monkeypatch):
    monkeypatch.setenv("TRONSCAN_API_KEY", TRON_KEY)
    trongrid = {path: (await engine_client.get(path)).json()["data"] for path in (TRON_ADDRESS, TRON_TX)}
    fake_upstream.fault("trongrid", "status", status=503)
    clear_cache(redis_client)
    address = (await engine_client.get(TRON_ADDRESS)).json()
    assert address["meta"]["source"] == "tronscan" and attempts(address)[-1] == ("tronscan", "ok")
    # The same record, and what TronGrid leaves null Tronscan fills in.
    assert {k: v for k, v in address["data"].items() if k != "tx_count"} == \
        {k: v for k, v in trongrid[TRON_ADDRESS].items() if k != "tx_count"}
    assert (trongrid[TRON_ADDRESS]["tx_count"], address["data"]["tx_count"]) == (None, 1)
    tx = (await engine_client.get(TRON_TX)).json()
    assert tx["meta"]["source"] == "tronscan"
    assert {k: v for k, v in tx["data"].items() if k != "confirmations"} == \
        {k: v for k, v in trongrid[TRON_TX].items() if k != "confirmations"}
    assert trongrid[TRON_TX]["confirmations"] is None and tx["data"]["confirmations"] >= 41
    sent = fake_upstream.requests("tronscan")
    assert [r["path"] for r in sent] == ["/tronscan/account", "/tronscan/transaction-info"]
    assert {r["headers"].get("tron-pro-api-key") for r in sent} == {TRON_KEY}


async def test_without_its_key_tronscan_is_skipped_and_never_called(keyed_tronscan, fake_upstream, engine_client,
                                                                  monkeypatch):
    monkeypatch.delenv("TRONSCAN_API_KEY", raising=False)
    fake_upstream.fault("trongrid", "status", status=503)
    response = await engine_client.get(TRON_TX)
    assert response.status_code == 503
    outcomes = dict((a["provider"], a["outcome"]) for a in response.json()["attempts"])
    assert outcomes["tronscan"] == "skipped_no_key" and outcomes["trongrid"] != "ok"
    assert fake_upstream.calls("tronscan") == 0


@pytest.mark.parametrize("node", ["blockscout_eth", "llamarpc_eth", "drpc_eth", "cloudflare_eth"])
async def test_each_new_ethereum_source_answers_when_every_earlier_member_fails(onchain_pools, fake_upstream,
                                                                              engine_client, node):
    for capability in ("address", "tx"):
        members = shipped_pools(capability)[capability]
        for earlier in members[:members.index(node)]:
            fake_upstream.fault(earlier, "status", status=503)
    address = (await engine_client.get(f"/api/data/address?chain=ethereum&address={ledger.ETH_ADDRESS}")).json()
    assert (address["meta"]["source"], address["data"]["balance_raw"]) == (node, "1234567890123456789012")
    tx = (await engine_client.get(f"/api/data/tx?chain=ethereum&hash={ledger.ETH_FAILED_TX}")).json()
    assert (tx["meta"]["source"], tx["data"]["status"], tx["data"]["block"]) == (
        node, "failed", ledger.SNAPSHOT_TIP["ethereum"][0] - 250)
    assert tx["data"]["fee_raw"] == str(48211 * 2_000_000_000)
    # Cloudflare's gateway refuses a batch (in the fake as assumed of the real one): it sent one receipt call,
    # which has no chain tip, so no confirmations.
    assert (tx["data"]["confirmations"] is None) == (node == "cloudflare_eth")


async def test_bitcoin_falls_back_to_blockchain_info_with_balance_count_and_recent_hashes(onchain_pools,
                                                                                        fake_upstream, engine_client):
    for earlier in ("mempool_space", "blockstream", "blockchair"):
        fake_upstream.fault(earlier, "status", status=503)
    address = (await engine_client.get(f"/api/data/address?chain=bitcoin&address={ledger.BTC_ADDRESS}")).json()
    assert address["meta"]["source"] == "blockchain_info"
    assert (address["data"]["balance_raw"], address["data"]["tx_count"], address["data"]["recent_transactions"]) == (
        "125000000", ledger.BTC_TX_COUNT, ledger.RECENT[ledger.BTC_ADDRESS])
    assert fake_upstream.requests("blockchain_info")[-1]["query"] == "limit=10"
    tx = (await engine_client.get(f"/api/data/tx?chain=bitcoin&hash={ledger.BTC_PENDING_TX}")).json()
    assert tx["meta"]["source"] == "blockchain_info"
    assert (tx["data"]["status"], tx["data"]["block"], tx["data"]["fee_raw"], tx["data"]["confirmations"]) == (
        "pending", None, "705", 0)


@pytest.mark.parametrize("node", ["llamarpc_eth", "drpc_eth", "cloudflare_eth"])
async def test_ethereum_gas_falls_back_through_the_nodes_eth_gas_price(onchain_pools, fake_upstream, engine_client,
                                                                       node):
    members = shipped_pools("gas")["gas"]
    for earlier in members[:members.index(node)]:
        fake_upstream.fault(earlier, "status", status=503)
    body = (await engine_client.get("/api/data/gas?chain=ethereum")).json()
    assert (body["meta"]["source"], body["data"]["unit"], body["data"]["standard"]) == (node, "gwei", 0.52)


async def test_an_unknown_tron_transaction_is_a_404_from_both_tron_sources(onchain_pools, engine_client):
    response = await engine_client.get(f"/api/data/tx?chain=tron&hash={'07' * 32}")
    assert response.status_code == 404
    assert [(a["provider"], a["outcome"]) for a in response.json()["attempts"]] == [
        ("trongrid", "not_found"), ("tronscan", "not_found")]
