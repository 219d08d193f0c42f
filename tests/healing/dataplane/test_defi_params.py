"""Parameters of /api/data/dex, /stablecoins and /yields: normalized before any call, 400 naming the field."""

import pytest

from healing.dataplane.params import ParamError, parse_request

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
SOL = "So11111111111111111111111111111111111111112"


def test_dex_normalizes_chain_aliases_and_evm_addresses():
    req = parse_request("dex", {"token": " 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2 "})
    assert (req.capability, req.params) == ("dex", {"chain": "ethereum", "token": WETH})
    assert parse_request("dex", {"chain": "ETH", "token": WETH}).params == {"chain": "ethereum", "token": WETH}
    assert parse_request("dex", {"chain": "matic", "token": WETH}).params["chain"] == "polygon"
    # Base58 is case-sensitive: a Solana mint is kept exactly as given.
    assert parse_request("dex", {"chain": "sol", "token": SOL}).params == {"chain": "solana", "token": SOL}


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [({}, "token", "required"),
     ({"token": "0x123"}, "token", "40 hex"),
     ({"token": "0x" + "g" * 40}, "token", "40 hex"),
     ({"token": WETH + "00"}, "token", "40 hex"),
     ({"token": SOL}, "token", "ethereum"),  # a Solana mint is no EVM address
     ({"chain": "solana", "token": WETH}, "token", "base58"),  # 0x... has a 0, not base58 for a mint
     ({"chain": "solana", "token": "O0Il" * 10}, "token", "base58"),
     ({"chain": "solana", "token": "abc"}, "token", "base58"),
     ({"chain": "bitcoin", "token": WETH}, "chain", "one of"),
     ({"token": WETH, "ids": "bitcoin"}, "ids", "unknown parameter")],
)
def test_bad_dex_params_are_400_naming_the_field(query, field, words):
    with pytest.raises(ParamError) as raised:
        parse_request("dex", query)
    assert (raised.value.field, raised.value.status) == (field, 400)
    assert words in raised.value.detail


def test_stablecoins_and_yields_defaults_and_limits():
    assert parse_request("stablecoins", {}).params == {"limit": 100}
    assert parse_request("stablecoins", {"limit": "250"}).params == {"limit": 250}
    assert parse_request("yields", {}).params == {"chain": None, "project": None, "limit": 50}
    assert parse_request("yields", {"chain": " Ethereum ", "project": "Aave-V3", "limit": "500"}).params == {
        "chain": "ethereum", "project": "aave-v3", "limit": 500}


@pytest.mark.parametrize(
    ("name", "query", "field"),
    [("stablecoins", {"limit": "251"}, "limit"), ("stablecoins", {"limit": "0"}, "limit"),
     ("stablecoins", {"limit": "ten"}, "limit"), ("yields", {"limit": "501"}, "limit"),
     ("yields", {"project": "aave;drop"}, "project"), ("yields", {"chain": "<script>"}, "chain"),
     ("yields", {"protocol": "aave"}, "protocol"), ("stablecoins", {"consensus": "3"}, "consensus")],
)
def test_bad_stablecoin_and_yield_params_are_400_naming_the_field(name, query, field):
    with pytest.raises(ParamError) as raised:
        parse_request(name, query)
    assert (raised.value.field, raised.value.status) == (field, 400)
