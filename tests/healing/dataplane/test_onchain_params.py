"""Parameters of /api/data/address and /api/data/tx: normalized on success, a 400 naming the field otherwise."""

import pytest

from healing.dataplane.params import CAPABILITIES, ParamError, parse_request

ETH = "0xd8dA6BF26964aF9D7eEd9e03E53415D37aA96045"


def test_both_routes_are_registered_on_their_engine_capabilities():
    assert (CAPABILITIES["address"].capability, CAPABILITIES["tx"].capability) == ("address", "tx")


def test_equal_requests_normalize_equally():
    spellings = [ETH, ETH.lower(), "0x" + ETH[2:].upper()]
    assert {parse_request("address", {"address": a}).params["address"] for a in spellings} == {ETH}
    assert parse_request("address", {"address": ETH}).params["chain"] == "ethereum"
    assert parse_request("tx", {"chain": "Bitcoin", "hash": "AB" * 32}).params == {"chain": "bitcoin",
                                                                                 "hash": "ab" * 32}


@pytest.mark.parametrize(("name", "query", "field"), [
    ("address", {}, "address"),
    ("address", {"address": "  "}, "address"),
    ("address", {"address": ETH[:-1] + "6"}, "address"),
    ("address", {"chain": "bitcoin", "address": ETH}, "address"),
    ("address", {"chain": "dogecoin", "address": ETH}, "chain"),
    ("address", {"address": ETH, "hash": "ab" * 32}, "hash"),  # not a parameter of address
    ("tx", {"chain": "tron"}, "hash"),
    ("tx", {"chain": "ethereum", "hash": "ab" * 32}, "hash"),
    ("tx", {"chain": "bitcoin", "hash": "ab" * 33}, "hash"),
    ("tx", {"hash": "0x" + "ab" * 32, "consensus": "2"}, "consensus"),
])
def test_bad_parameters_name_their_field(name, query, field):
    with pytest.raises(ParamError) as raised:
        parse_request(name, query)
    assert raised.value.field == field and raised.value.status == 400
