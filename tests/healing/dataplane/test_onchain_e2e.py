"""/api/data/address and /api/data/tx end to end: the data plane in process, the engine, real Redis
and real sockets to the fake upstream's on-chain providers (tests/fake_upstream/chain_accounts.py),
with the pools in the shipped catalogue's order."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from providers.onchain_records import AddressBalance, TxStatus
from tests.fake_upstream import chain_accounts as ledger
from tests.fixtures.dataplane import clear_cache, pools_over_fake

CATALOGUE = Path(__file__).resolve().parents[3] / "fixtures" / "providers.json"
POST_PROVIDERS = {"publicnode_eth", "llamarpc_eth", "drpc_eth", "cloudflare_eth", "trongrid"}
ETH_ADDRESS_MEMBERS = ["etherscan", "publicnode_eth", "blockchair", "blockscout_eth", "llamarpc_eth", "drpc_eth",
                       "cloudflare_eth"]
ETH_TX_MEMBERS = ["publicnode_eth", "etherscan", "blockchair", "blockscout_eth", "llamarpc_eth", "drpc_eth",
                  "cloudflare_eth"]
BTC_MEMBERS = ["mempool_space", "blockstream", "blockchair", "blockchain_info"]
# Fields a provider leaves null by design (its docstring says why), so they are not compared after a fallback.
LEFT_NULL = {"blockchain_info": {"timestamp"}}
UNUSED_EVM = "0x000000000000000000000000000000000000dEaD"
UNUSED_BTC = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
ETH, BTC, TRON = ledger.ETH_ADDRESS, ledger.BTC_ADDRESS, ledger.TRON_ADDRESS

# (path, the members that serve its chain in pool order, the record class, fields every provider agrees on)
CASES = {
    "address-ethereum": (f"/api/data/address?chain=ethereum&address={ETH.lower()}",
                         ETH_ADDRESS_MEMBERS, AddressBalance, ("balance_raw", "address")),
    "address-base": (f"/api/data/address?chain=base&address={ETH}", ["etherscan"], AddressBalance, ("balance_raw",)),
    "address-bitcoin": (f"/api/data/address?chain=bitcoin&address={BTC}",
                        BTC_MEMBERS, AddressBalance, ("balance_raw", "tx_count")),
    "address-tron": (f"/api/data/address?chain=tron&address={TRON}", ["trongrid", "tronscan"], AddressBalance,
                     ("balance_raw",)),
    "tx-ethereum": (f"/api/data/tx?chain=ethereum&hash={ledger.ETH_TX}", ETH_TX_MEMBERS, TxStatus,
                    ("status", "block", "fee_raw")),
    "tx-ethereum-failed": (f"/api/data/tx?chain=ethereum&hash={ledger.ETH_FAILED_TX.upper().replace('0X', '0x')}",
                           ETH_TX_MEMBERS, TxStatus, ("status", "block", "fee_raw")),
    "tx-bitcoin": (f"/api/data/tx?chain=bitcoin&hash={ledger.BTC_TX}", BTC_MEMBERS, TxStatus,
                   ("status", "block", "fee_raw", "timestamp")),
    "tx-tron": (f"/api/data/tx?chain=tron&hash={ledger.TRON_TX}", ["trongrid", "tronscan"], TxStatus,
                ("status", "block", "fee_raw", "timestamp")),
}


def fields(cls) -> set[str]:
    return set(cls.__dataclass_fields__)


@pytest.fixture
def onchain_catalogue(transactional_db, fake_upstream):
    """The shipped address and tx pools (members in their priority order), every provider on the fake upstream."""
    shipped = json.loads(CATALOGUE.read_text())
    pools = {p["capability"]: [m["provider"] for m in sorted(p["members"], key=lambda m: -m["priority"])]
             for p in shipped["pools"] if p["capability"] in ("address", "tx")}
    return pools_over_fake(fake_upstream, pools, category=lambda slug: "explorer", allow_post=POST_PROVIDERS)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_every_chain_answers_the_normalized_record(onchain_catalogue, fake_upstream, engine_client, case):
    path, providers, cls, _ = CASES[case]
    response = await engine_client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["source"] == providers[0] and body["meta"]["served"] == "live"
    assert set(body["data"]) == fields(cls)
    # Only members serving the chain were asked.
    assert {a["provider"] for a in body["meta"]["attempts"]} == {providers[0]}


async def test_amounts_are_numbers_in_the_coin_and_exact_strings_in_the_smallest_unit(onchain_catalogue, engine_client):
    eth = (await engine_client.get(CASES["address-ethereum"][0])).json()["data"]
    assert eth["address"] == ETH  # normalized to the EIP-55 spelling
    assert (eth["symbol"], eth["decimals"], eth["balance_raw"]) == ("ETH", 18, "1234567890123456789012")
    assert eth["balance"] == pytest.approx(1234.567890123456789012)
    tron = (await engine_client.get(CASES["address-tron"][0])).json()["data"]
    assert (tron["symbol"], tron["balance"], tron["balance_raw"]) == ("TRX", 98765.4321, "98765432100")
    tx = (await engine_client.get(CASES["tx-bitcoin"][0])).json()["data"]
    assert (tx["status"], tx["symbol"], tx["fee"], tx["fee_raw"]) == ("confirmed", "BTC", 1.41e-05, "1410")
    assert tx["timestamp"].endswith("Z")


@pytest.mark.parametrize("case", sorted(c for c in CASES if len(CASES[c][1]) > 1))
async def test_fallback_from_each_provider_to_the_next_keeps_the_record(onchain_catalogue, fake_upstream, engine_client,
                                                                       redis_client, case):
    path, providers, cls, agreed = CASES[case]
    first = (await engine_client.get(path)).json()["data"]
    for broken, expected in zip(providers, providers[1:], strict=False):
        fake_upstream.fault(broken, "status", status=503)
        clear_cache(redis_client)
        response = await engine_client.get(path)
        assert response.status_code == 200, (broken, response.text)
        body = response.json()
        assert body["meta"]["source"] == expected, body["meta"]["attempts"]
        assert set(body["data"]) == fields(cls)
        left_null = LEFT_NULL.get(expected, set()) & fields(cls)
        compared = [k for k in agreed if k not in left_null]
        assert {k: body["data"][k] for k in compared} == {k: first[k] for k in compared}, expected
        assert all(body["data"][k] is None for k in left_null), expected


async def test_an_error_inside_http_200_falls_back_too(onchain_catalogue, fake_upstream, engine_client):
    fake_upstream.fault("etherscan", "error_in_200")
    response = await engine_client.get(CASES["address-ethereum"][0])
    assert response.status_code == 200
    attempts = response.json()["meta"]["attempts"]
    # Etherscan's status "0" with an unlisted reason is bad data: it counts against Etherscan, then PublicNode.
    assert [(a["provider"], a["outcome"]) for a in attempts] == [("etherscan", "bad_data"), ("publicnode_eth", "ok")]


@pytest.mark.parametrize(("chain", "address"), [("ethereum", UNUSED_EVM), ("bitcoin", UNUSED_BTC)])
async def test_an_address_never_used_is_a_zero_balance(onchain_catalogue, engine_client, chain, address):
    response = await engine_client.get(f"/api/data/address?chain={chain}&address={address}")
    assert response.status_code == 200, response.text
    assert (response.json()["data"]["balance"], response.json()["data"]["balance_raw"]) == (0, "0")


async def test_a_pending_transaction_is_pending_with_no_block(onchain_catalogue, engine_client):
    response = await engine_client.get(f"/api/data/tx?chain=ethereum&hash={ledger.ETH_PENDING_TX}")
    data = response.json()["data"]
    assert (data["status"], data["block"], data["confirmations"]) == ("pending", None, 0)


@pytest.mark.parametrize(("query", "field"), [
    ("chain=ethereum&address=0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96046", "address"),  # bad EIP-55 checksum
    ("chain=ethereum&address=0x1234", "address"),
    (f"chain=bitcoin&address={BTC[:-1]}5", "address"),  # bech32 checksum
    (f"chain=tron&address={ETH}", "address"),
    ("chain=bitcoin&address=1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "address"),  # base58check checksum
    ("chain=solana&address=abc", "chain"),
])
async def test_a_bad_address_is_a_400_naming_the_field_and_calls_nobody(onchain_catalogue, fake_upstream, engine_client,
                                                                       query, field):
    response = await engine_client.get(f"/api/data/address?{query}")
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize("query", ["chain=ethereum&hash=" + "ab" * 32, "chain=bitcoin&hash=0x" + "ab" * 32,
                                   "chain=tron&hash=abc", "chain=ethereum"])
async def test_a_bad_hash_is_a_400_naming_hash(onchain_catalogue, fake_upstream, engine_client, query):
    response = await engine_client.get(f"/api/data/tx?{query}")
    assert response.status_code == 400 and response.json()["field"] == "hash"
    assert fake_upstream.calls() == 0


@pytest.mark.parametrize(("chain", "tx_hash"), [("ethereum", "0x" + "07" * 32), ("bitcoin", "07" * 32),
                                                ("tron", "07" * 32)])
async def test_an_unknown_transaction_is_a_404_that_no_breaker_counts(onchain_catalogue, engine_client, chain, tx_hash):
    for _ in range(6):  # beyond the breaker's 5 consecutive failures
        response = await engine_client.get(f"/api/data/tx?chain={chain}&hash={tx_hash}")
        assert response.status_code == 404, response.text
        body = response.json()
        assert (body["field"], body["values"]) == ("hash", [tx_hash])
        assert {a["outcome"] for a in body["attempts"]} == {"not_found"}
    known = {"ethereum": ledger.ETH_TX, "bitcoin": ledger.BTC_TX, "tron": ledger.TRON_TX}[chain]
    after = (await engine_client.get(f"/api/data/tx?chain={chain}&hash={known}")).json()["meta"]
    assert after["attempts"] == [{"provider": after["source"], "outcome": "ok", "ms": after["attempts"][0]["ms"]}]


def test_manage_py_fetch_serves_address_and_tx(onchain_catalogue):
    out = io.StringIO()
    call_command("fetch", "address", "--chain", "bitcoin", "--address", BTC, "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert (body["meta"]["source"], body["data"]["balance_raw"]) == ("mempool_space", "125000000")
    out = io.StringIO()
    call_command("fetch", "tx", "--chain", "tron", "--hash", ledger.TRON_TX, stdout=out)
    assert "status" in out.getvalue() and "source trongrid, served live" in out.getvalue()
